import test from "ava";
import { findResource, findResources } from "./helpers/pulumiMocks";
import { loadStack, TEST_CONFIG } from "./helpers/stack";

/**
 * The stack with the App's key in an existing secret encrypted with a customer-managed KMS key (as prod may run):
 * no secret is created, and the inspector may decrypt with exactly that key, only through Secrets Manager.
 */
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slipway/github-app-key-AbC123";
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

test("an existing secret with a customer-managed key: the inspector gets kms:Decrypt on that key via Secrets Manager", async (t) => {
  const withoutKey = Object.entries(TEST_CONFIG).filter(([key]) => key !== "slipway:githubAppPrivateKey");
  const stack = await loadStack(
    {
      ...Object.fromEntries(withoutKey),
      "slipway:githubAppPrivateKeySecretArn": SECRET,
      "slipway:githubAppPrivateKeyKmsKeyArn": KEY,
    },
    { functionCode: "archives" }, // policies only: the code is stack.test.ts's
  );
  // No secret for the App's key (the onboarding's OAuth client secret is another one, given as a value here).
  t.deepEqual(
    findResources(stack.resources, "aws:secretsmanager/secret:Secret").map((secret) => secret.name),
    ["slipway-client-secret"],
  );
  // The inspector and GET /repositories mint installation tokens: both read the key and may decrypt it.
  for (const fn of ["slipway-inspector", "slipway-repositories"]) {
    const statements = JSON.parse(findResource(stack.resources, "aws:iam/rolePolicy:RolePolicy", fn).inputs.policy)
      .Statement as { Sid: string }[];
    t.deepEqual(
      statements.find((s) => s.Sid === "ReadGitHubAppKey"),
      {
        Sid: "ReadGitHubAppKey",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [SECRET],
      } as never,
    );
    t.deepEqual(
      statements.find((s) => s.Sid === "DecryptGitHubAppKey"),
      {
        Sid: "DecryptGitHubAppKey",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [KEY],
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      } as never,
    );
  }
  t.is(stack.outputs.githubAppPrivateKeySecretArn, SECRET);
});
