import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import anyTest, { type TestFn } from "ava";
import { LAMBDA_RUNTIME } from "../components/functionBundle";
import { ensureFunctionArchives, type FunctionArchives } from "../local/platform/archives/functionArchives";
import { loadUnderLambda } from "../local/platform/archives/loadUnderLambda";
import { lambdaRuntimeModules } from "../local/platform/lambda/lambdaRuntimeModules";
import { lambdaNodeFlags } from "../local/platform/lambda/lambdaNodeFlags";
import { findResources } from "./helpers/pulumiMocks";
import { loadStack, type LoadedStack } from "./helpers/stack";

/*
 * Lambda parity: the functions are the archives `pulumi up` builds, and they load the way Lambda loads them (its
 * Node.js flags, only its runtime's modules beside the archive). On the code before this test existed, the
 * inspector's archive failed here with ERR_REQUIRE_ESM: it `require()`d @octokit's ES-module-only packages.
 */
const test = anyTest as TestFn<{ archives: FunctionArchives; stack: LoadedStack; dir: string; runtimeModules: string }>;

test.before(async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "slipway-parity-"));
  t.context = {
    archives: await ensureFunctionArchives(),
    stack: await loadStack(undefined, { functionCode: "archives" }), // settings only: the code is the archives
    dir,
    runtimeModules: lambdaRuntimeModules(path.resolve(__dirname, ".."), path.join(dir, "runtime")),
  };
});

test.after.always((t) => {
  if (t.context.dir) fs.rmSync(t.context.dir, { recursive: true, force: true });
});

test("Lambda's Node.js flags per runtime, and a re-enable flag in NODE_OPTIONS lifting its disable flag", (t) => {
  t.deepEqual(lambdaNodeFlags("nodejs22.x"), ["--no-experimental-require-module", "--no-experimental-detect-module"]);
  t.deepEqual(lambdaNodeFlags("nodejs20.x"), ["--no-experimental-require-module"]);
  t.deepEqual(lambdaNodeFlags("nodejs22.x", "--enable-source-maps --experimental-require-module"), [
    "--no-experimental-detect-module",
  ]);
  t.deepEqual(lambdaNodeFlags("nodejs24.x"), []);
});

test("the archives are compiled by Pulumi's own TypeScript registration, one per function of the stack", (t) => {
  const { archives, stack } = t.context;
  t.regex(archives.manifest.compiledBy, /ts-node.* with typescript \d/);
  t.notRegex(archives.manifest.compiledBy, /tsx/);
  const declared = findResources(stack.resources, "aws:lambda/function:Function").map((r) => r.name);
  t.deepEqual(Object.keys(archives.manifest.functions).sort(), declared.sort());
  for (const settings of Object.values(archives.manifest.functions)) t.is(settings.runtime, LAMBDA_RUNTIME);
});

// The reconciler is left out: whatever its event, it reads DynamoDB, which is not here. The rest answer {} without I/O
// (the API routes with a 401, the build events function by ignoring what is not a CodeBuild event).
for (const name of [
  "slipway-inspector",
  "slipway-abandoned",
  "slipway-deploy",
  "slipway-get",
  "slipway-list",
  "slipway-cancel",
  "slipway-logs",
  "slipway-build-events",
  "slipway-installations",
  "slipway-link",
  "slipway-projects",
  "slipway-webhooks",
]) {
  test(`${name} loads under Lambda's flags with only the runtime's SDK beside it, and answers an empty event`, async (t) => {
    const { archives, stack, runtimeModules } = t.context;
    const resource = findResources(stack.resources, "aws:lambda/function:Function").find((r) => r.name === name)!;
    const settings = archives.manifest.functions[name]!;
    const outcome = await loadUnderLambda({
      name,
      codeDir: archives.codeDir(name),
      handler: settings.handler,
      runtime: settings.runtime,
      memorySizeMb: settings.memorySize,
      environment: resource.inputs.environment?.variables ?? {},
      runtimeModulesDir: runtimeModules,
    });
    t.true(outcome.loaded, JSON.stringify(outcome.result));
    t.true(outcome.result.ok, JSON.stringify(outcome.result));
  });
}

test("the local Lambda refuses require() of an ES module as Lambda does, unless NODE_OPTIONS re-enables it", async (t) => {
  const codeDir = path.join(t.context.dir, "esm-require");
  fs.mkdirSync(path.join(codeDir, "node_modules", "esm-only"), { recursive: true });
  fs.writeFileSync(
    path.join(codeDir, "node_modules", "esm-only", "package.json"),
    JSON.stringify({ name: "esm-only", type: "module", exports: "./index.js" }),
  );
  fs.writeFileSync(path.join(codeDir, "node_modules", "esm-only", "index.js"), "export const answer = 42;\n");
  fs.writeFileSync(
    path.join(codeDir, "__index.js"),
    'const { answer } = require("esm-only");\nexports.handler = async () => ({ answer });\n',
  );
  const load = (environment: Record<string, string>) =>
    loadUnderLambda({
      name: "esm-require",
      codeDir,
      handler: "__index.handler",
      runtime: "nodejs22.x",
      memorySizeMb: 128,
      environment,
    });
  const strict = await load({});
  t.false(strict.loaded);
  t.false(strict.result.ok);
  t.regex(JSON.stringify(strict.result), /ERR_REQUIRE_ESM|require\(\) of ES Module/);
  const reEnabled = await load({ NODE_OPTIONS: "--experimental-require-module" });
  t.true(reEnabled.loaded, JSON.stringify(reEnabled.result));
});
