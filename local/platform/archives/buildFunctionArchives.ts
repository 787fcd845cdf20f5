/**
 * Builds every function archive of the stack the way `pulumi up` does, and writes them out unpacked:
 * `<out>/<function resource name>/…` and `<out>/manifest.json`. Run ONLY under `pulumiTypeScript.cjs`
 * (`node -r ./local/platform/archives/pulumiTypeScript.cjs local/platform/archives/buildFunctionArchives.ts <out>`),
 * so the code Pulumi serializes is what Pulumi's own TypeScript compilation of this project produces, not tsx's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readFunctionArchive, unpackArchive } from "../functionArchive";
import { runStack } from "../runStack";
import { ARCHIVE_BUILD_KEY, type ArchiveManifest } from "./functionArchives";

/** Any complete configuration will do: the code of a function does not depend on configuration values. */
const BUILD_CONFIG: Record<string, string> = {
  "aws:region": "us-east-1",
  "slipway:githubAppId": "1",
  "slipway:githubAppPrivateKey": ARCHIVE_BUILD_KEY,
  "slipway:jwtIssuer": "https://issuer.invalid/",
  "slipway:dashboard": "false", // functions only
  "slipway:jwtAudience": JSON.stringify(["archive-build"]),
  // The install flow on, so its functions (installations, link, projects, webhooks) are built too.
  "slipway:githubAppInstallUrl": "https://github.invalid/apps/archive-build/installations/new",
  "slipway:githubAppClientId": "Iv1.archivebuild",
  "slipway:githubAppClientSecretArn":
    "arn:aws:secretsmanager:us-east-1:000000000000:secret:archive-build-client-AbCdEf",
  "slipway:githubWebhookSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:archive-build-webhook-AbCdEf",
};

async function main(outDir: string): Promise<void> {
  const compiledBy = compilerName();
  const functions: { name: string; inputs: Record<string, any> }[] = [];
  await runStack({
    config: BUILD_CONFIG,
    secretKeys: ["slipway:githubAppPrivateKey"],
    stackName: "archives",
    newResource(args) {
      if (args.type === "aws:lambda/function:Function") functions.push({ name: args.name, inputs: args.inputs });
      return {
        id: `${args.name}-id`,
        state: {
          ...args.inputs,
          name: args.name,
          bucket: args.name,
          arn: `arn:aws:::${args.name}`,
          // What the program computes outputs and environment variables from (the API's URL gives the webhook URL;
          // the image repository's URL is the build functions' IMAGE_REPOSITORY_URL).
          invokeUrl: `https://${args.name}.invalid/`,
          repositoryUrl: `000000000000.dkr.ecr.us-east-1.amazonaws.com/${args.name}`,
        },
      };
    },
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program: () => require("../../../index") as Record<string, unknown>,
  });
  const manifest: ArchiveManifest = { compiledBy, functions: {} };
  for (const { name, inputs } of functions) {
    unpackArchive(await readFunctionArchive(name, inputs.code), path.join(outDir, name));
    manifest.functions[name] = {
      handler: String(inputs.handler),
      runtime: String(inputs.runtime),
      memorySize: Number(inputs.memorySize ?? 128),
      timeout: Number(inputs.timeout ?? 3),
      environment: { ...(inputs.environment?.variables ?? {}) },
    };
  }
  fs.writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2));
}

/** Which compiler produced the code, as the registration reported it; refuses to run under any other loader. */
function compilerName(): string {
  const registration = require.cache[require.resolve("./pulumiTypeScript.cjs")]?.exports as
    { tsnodeRequire: string; typescriptVersion: string; transpileOnly: boolean } | undefined;
  if (!registration) throw new Error("run this under pulumiTypeScript.cjs (node -r), as `pulumi up` compiles it");
  const tsNode = path.relative(path.resolve(__dirname, "../../.."), registration.tsnodeRequire);
  return `${tsNode} with typescript ${registration.typescriptVersion}${registration.transpileOnly ? " (transpile only)" : ""}`;
}

const outDir = process.argv[2];
if (!outDir) {
  process.stderr.write("usage: buildFunctionArchives.ts <out dir>\n");
  process.exit(2);
}
main(path.resolve(outDir)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
