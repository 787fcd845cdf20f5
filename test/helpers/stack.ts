import * as pulumi from "@pulumi/pulumi";
import { installMocks, type RecordedResource } from "./pulumiMocks";

/** A complete, valid stack configuration, as a platform team would set it for a dev stack. */
export const TEST_CONFIG: Record<string, string> = {
  "aws:region": "eu-west-1",
  "slipway:githubAppId": "424242",
  "slipway:githubAppPrivateKey":
    "-----BEGIN RSA PRIVATE KEY-----\nTEST-ONLY-NOT-A-REAL-KEY\n-----END RSA PRIVATE KEY-----\n",
  "slipway:githubAppInstallUrl": "https://github.com/apps/slipway-test/installations/new",
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
 * Runs `index.ts` under Pulumi's mocks, once per test process (a Pulumi program registers its resources once), and
 * returns every resource it registered and its resolved stack outputs.
 */
export async function loadStack(config: Record<string, string> = TEST_CONFIG): Promise<LoadedStack> {
  const resources = installMocks(config);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require("../../index") as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(program)) {
    outputs[name] = await new Promise((resolve) => (pulumi.output(output) as pulumi.Output<unknown>).apply(resolve));
  }
  await pulumi.runtime.disconnect(); // waits until every registration has been made
  return { resources, outputs };
}
