import test from "ava";
import { buildspecFor } from "../../components/buildspecs";
import { auditScenario } from "../../local/platform/policyAudit";

/**
 * Least privilege against real calls: the whole platform runs an end-to-end scenario (ten builds, a deployment
 * retried until given up), every AWS call each role makes is recorded, and the IAM simulator checks that each policy
 * allows all of them and nothing more. Minutes on a loaded machine, so it is `npm run test:slow` (CI runs it);
 * `npm test` audits hand-made calls in test/policy-audit.test.ts.
 */

test("end to end: every function and build project role allows exactly the calls it makes", async (t) => {
  // The whole platform, ten builds and a deployment retried until given up: minutes on a loaded machine.
  t.timeout(20 * 60_000);
  const { recording, audits, findings } = await auditScenario({ settleTimeoutMs: 300_000 });
  for (const step of recording.steps) t.is(step.actual, step.expected, step.name);
  const owners = Object.values(recording.roleOwners);
  t.is(owners.filter((owner) => owner.kind === "function").length, 9);
  t.is(owners.filter((owner) => owner.kind === "build project").length, 10);
  // Every role made calls, and its policy allows each of them with no statement, action or resource to spare.
  t.deepEqual(Object.keys(audits).sort(), Object.keys(recording.roleOwners).sort());
  t.true(buildspecFor("node").includes("ecr-public get-login-password"), "the builds log in to ECR Public");
  t.deepEqual(findings, []);
  // The calls the review was about were really made, and allowed.
  const roleOf = (pattern: RegExp) =>
    Object.entries(recording.roleOwners).find(([, owner]) => pattern.test(owner.name))![0];
  const made = (role: string, action: string) =>
    (recording.callsByRole[role] ?? []).some((recorded) => recorded.action === action);
  const inspector = roleOf(/inspector/);
  const nodeBuilds = roleOf(/node/);
  t.true(made(inspector, "dynamodb:ListStreams"));
  t.true(made(inspector, "codebuild:ListBuildsForProject"));
  for (const action of ["s3:GetBucketAcl", "s3:GetBucketLocation", "ecr:GetAuthorizationToken", "ecr:PutImage"]) {
    t.true(made(nodeBuilds, action), action);
  }
});
