import * as path from "node:path";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";

/** The Lambda runtime every function runs on, and the Node.js version the bundle is compiled for. */
export const LAMBDA_RUNTIME = "nodejs22.x";
export const LAMBDA_HANDLER = "__index.handler";

/**
 * How a serialized callback becomes the function's one file: a CommonJS bundle of the serialized code and every
 * package it loads, the AWS SDK v3 clients included.
 *
 * - CommonJS, with the ES-module-only packages (`@octokit/*`) converted: Lambda starts Node.js with
 *   `--no-experimental-require-module`, so the `require()` Pulumi's serializer writes for them would fail on AWS.
 * - The AWS SDK is bundled rather than taken from the runtime: the runtime's copy is a version AWS picks and
 *   patches under us, while a bundle runs exactly the clients the tests ran (AWS's SDK guide advises bundling).
 * - Whitespace and syntax minified to stay far under Lambda's limits and the inspector's 2 MB budget; names kept, so
 *   stack traces in CloudWatch still read.
 */
export function bundleOptions(resolveDir: string): esbuild.BuildOptions & { write: false } {
  return {
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    write: false,
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: "none",
    // Pulumi's serializer wraps captured functions in `with` blocks; allowed in CommonJS, which is what this is.
    logOverride: { "with-statement": "silent" },
    logLevel: "silent",
    absWorkingDir: resolveDir,
  };
}

/** Bundles serialized code (the text of `__index.js`) with what it requires from `resolveDir`'s node_modules. */
export async function bundleSerializedCode(text: string, resolveDir: string): Promise<string> {
  const result = await esbuild.build({
    ...bundleOptions(resolveDir),
    stdin: { contents: text, resolveDir, sourcefile: "__index.js", loader: "js" },
  });
  const [output] = result.outputFiles;
  if (!output || result.errors.length > 0) {
    throw new Error(`bundling the function failed: ${result.errors.map((e) => e.text).join("; ") || "no output"}`);
  }
  return output.text;
}

/**
 * Serializes a handler factory the way `aws.lambda.CallbackFunction` does (Pulumi's closure serializer, the factory
 * run once per container), refusing to capture a secret, then bundles the result into one file.
 */
export async function bundleCallbackFactory(factory: () => unknown, resolveDir: string): Promise<string> {
  const serialized = await pulumi.runtime.serializeFunction(factory, {
    exportName: "handler",
    isFactoryFunction: true,
    allowSecrets: false, // a secret captured by a closure would sit in the archive in plain text
  });
  return bundleSerializedCode(serialized.text, resolveDir);
}

/** The project root: where the bundler resolves the packages the serialized code requires. */
const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Makes the code archive of the function named `functionName` from its handler factory. */
export type FunctionCodeSource = (
  functionName: string,
  callbackFactory: () => unknown,
) => pulumi.Input<pulumi.asset.Archive>;

/** What `pulumi up` deploys: the factory serialized by Pulumi and bundled, as `__index.js`. */
export const serializedFunctionCode: FunctionCodeSource = (_functionName, callbackFactory) =>
  pulumi
    .output(bundleCallbackFactory(callbackFactory, PROJECT_ROOT))
    .apply((text) => new pulumi.asset.AssetArchive({ "__index.js": new pulumi.asset.StringAsset(text) }));

let functionCodeSource: FunctionCodeSource = serializedFunctionCode;

/**
 * Where function code comes from in this process; `pulumi up` never changes it. A process that runs the program for
 * its resource graph only, and already holds every function's archive built from the same sources (the local
 * platform, tests that read no code: local/platform/archives builds them once per source change), swaps in those
 * archives: serializing 14 callbacks again costs ~12 s of CPU per run and yields code it would not use.
 */
export function setFunctionCodeSource(source: FunctionCodeSource): void {
  functionCodeSource = source;
}

/** The code archive of a function, from this process's source (by default, serialized as `pulumi up` does). */
export function functionCode(functionName: string, callbackFactory: () => unknown): pulumi.Input<pulumi.asset.Archive> {
  return functionCodeSource(functionName, callbackFactory);
}
