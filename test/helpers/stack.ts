import { setFunctionCodeSource } from "../../components/functionBundle";
import { archivedFunctionCode, ensureFunctionArchives } from "../../local/platform/archives/functionArchives";
import { ensureDashboardBuilt } from "../../local/platform/dashboardSite";
import { runStack } from "../../local/platform/runStack";
import { computedState, type RecordedResource } from "./pulumiMocks";

/** A complete, valid stack configuration, as a platform team would set it for a dev stack. */
export const TEST_CONFIG: Record<string, string> = {
  "aws:region": "eu-west-1",
  "slipway:githubAppId": "424242",
  "slipway:githubAppPrivateKey":
    "-----BEGIN RSA PRIVATE KEY-----\nTEST-ONLY-NOT-A-REAL-KEY\n-----END RSA PRIVATE KEY-----\n",
  "slipway:githubAppInstallUrl": "https://github.com/apps/slipway-test/installations/new",
  "slipway:githubAppClientId": "Iv1.testclientid",
  "slipway:githubAppClientSecret": "TEST-ONLY-CLIENT-SECRET",
  "slipway:githubWebhookSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-AbCdEf",
  "slipway:jwtIssuer": "https://issuer.example.com/",
  "slipway:jwtAudience": JSON.stringify(["slipway-web"]),
  "slipway:corsAllowOrigins": JSON.stringify(["https://app.example.com"]),
  "slipway:logRetentionDays": "14",
  "slipway:deletionProtection": "false",
  "slipway:pointInTimeRecovery": "true",
};

export interface LoadedStack {
  readonly resources: RecordedResource[];
  readonly outputs: Record<string, unknown>;
}

/**
 * Runs `index.ts` under Pulumi's mocks, once per test process (a Pulumi program registers its resources once): every
 * `newResource` is recorded with its inputs and answered with the attributes AWS would compute.
 */
export async function loadStack(
  config: Record<string, string> = TEST_CONFIG,
  options: {
    /**
     * `serialize` (default): each callback serialized and bundled as `pulumi up` does, for tests that read or run the
     * code. `archives`: the archives `npm test`'s pretest built from the same sources, for tests of everything else
     * (~12 s of CPU less per load).
     */
    functionCode?: "serialize" | "archives";
  } = {},
): Promise<LoadedStack> {
  ensureDashboardBuilt(); // the Dashboard component uploads web/dist
  if (options.functionCode === "archives") setFunctionCodeSource(archivedFunctionCode(await ensureFunctionArchives()));
  const resources: RecordedResource[] = [];
  const outputs = await runStack({
    config,
    secretKeys: ["slipway:githubAppPrivateKey", "slipway:githubAppClientSecret"],
    stackName: "test",
    newResource(args) {
      const id = `${args.name}-id`;
      resources.push({ type: args.type, name: args.name, inputs: args.inputs, id });
      return { id, state: { ...args.inputs, ...computedState(args.type, args.name, args.inputs) } };
    },
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program: () => require("../../index") as Record<string, unknown>,
  });
  return { resources, outputs };
}
