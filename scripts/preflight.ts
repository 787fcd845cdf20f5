/**
 * `npm run preflight`: what a careful engineer checks before `pulumi up`, with no AWS account.
 *
 *   npm run preflight [-- --rebuild] [--json]
 *
 * 1. Builds every function archive the way `pulumi up` does (Pulumi's ts-node registration, the project's
 *    TypeScript and tsconfig, each callback serialized and bundled).
 * 2. Loads each under Lambda's Node.js flags for its runtime, with only the runtime's AWS SDK beside it, and invokes
 *    it once with an empty event.
 * 3. Checks each function's policy (the one the stack declares) against the AWS calls it makes.
 * Prints a table; exit 0 when every function loads, answers and is allowed exactly what it calls, 1 otherwise.
 */
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { archiveSize } from "../local/platform/archives/archiveSize";
import { ensureFunctionArchives } from "../local/platform/archives/functionArchives";
import { loadUnderLambda } from "../local/platform/archives/loadUnderLambda";
import { lambdaRuntimeModules } from "../local/platform/lambda/lambdaRuntimeModules";
import { lambdaNodeFlags } from "../local/platform/lambda/lambdaNodeFlags";
import { runStack } from "../local/platform/runStack";

const USAGE = "usage: preflight [--rebuild] [--json]";
const PROJECT_ROOT = path.resolve(__dirname, "..");
/** The inspector's archive budget, unzipped (Pulumi's default archive for it was 18.7 MB). */
const INSPECTOR_BUDGET_BYTES = 2 * 1024 * 1024;

interface Row {
  readonly function: string;
  readonly unzippedKiB: number;
  readonly zippedKiB: number;
  readonly flags: string;
  readonly loads: boolean;
  readonly coldStartMs?: number;
  readonly emptyEvent: string;
  readonly policy: string;
  readonly ok: boolean;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { rebuild: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean" } },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const archives = await ensureFunctionArchives({
    rebuild: values.rebuild ?? false,
    onBuild: (message) => process.stderr.write(`${message}\n`),
  });
  const declared = await declaredFunctions();
  const scratch = fs.mkdtempSync(path.join(tmpdir(), "slipway-preflight-"));
  const rows: Row[] = [];
  try {
    const runtimeModules = lambdaRuntimeModules(PROJECT_ROOT, path.join(scratch, "runtime"));
    const policies = await policyAudit();
    for (const [name, settings] of Object.entries(archives.manifest.functions).sort()) {
      const codeDir = archives.codeDir(name);
      const size = archiveSize(codeDir);
      const outcome = await loadUnderLambda({
        name,
        codeDir,
        handler: settings.handler,
        runtime: settings.runtime,
        memorySizeMb: settings.memorySize,
        environment: declared.get(name) ?? {},
        runtimeModulesDir: runtimeModules,
      });
      const overBudget = name.endsWith("-inspector") && size.unzippedBytes > INSPECTOR_BUDGET_BYTES;
      const policy = policies.get(name) ?? "not checked";
      const emptyEvent = outcome.result.ok
        ? "answered"
        : `${outcome.result.errorType}: ${outcome.result.errorMessage.slice(0, 80)}`;
      rows.push({
        function: name,
        unzippedKiB: Math.round(size.unzippedBytes / 1024),
        zippedKiB: Math.round(size.zippedBytes / 1024),
        flags: `${settings.runtime} ${lambdaNodeFlags(settings.runtime).join(" ")}`,
        loads: outcome.loaded,
        ...(outcome.coldStartMs !== undefined ? { coldStartMs: Math.round(outcome.coldStartMs) } : {}),
        emptyEvent,
        policy: overBudget ? `${policy}; OVER the 2 MiB budget` : policy,
        ok: outcome.loaded && outcome.result.ok && !overBudget && (policy === "ok" || policy === "not checked"),
      });
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  if (values.json)
    process.stdout.write(`${JSON.stringify({ compiledBy: archives.manifest.compiledBy, rows }, null, 2)}\n`);
  else printTable(archives.manifest.compiledBy, rows);
  return rows.every((row) => row.ok) ? 0 : 1;
}

/** Each function's variables as the stack declares them (a local stand-in config; values do not change the code). */
async function declaredFunctions(): Promise<Map<string, Record<string, string>>> {
  const environments = new Map<string, Record<string, string>>();
  await runStack({
    config: {
      "aws:region": "us-east-1",
      "slipway:githubAppId": "1",
      "slipway:githubAppPrivateKeySecretArn":
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:slipway-preflight-AbCdEf",
      "slipway:jwtIssuer": "https://issuer.invalid/",
      "slipway:jwtAudience": JSON.stringify(["preflight"]),
    },
    stackName: "preflight",
    newResource(args) {
      if (args.type === "aws:lambda/function:Function") {
        environments.set(args.name, { ...(args.inputs.environment?.variables ?? {}) });
      }
      const physical = `${args.name}-preflight`;
      return {
        id: physical,
        state: {
          ...args.inputs,
          name: physical,
          bucket: physical,
          arn: `arn:aws:preflight:us-east-1:123456789012:${physical}`,
        },
      };
    },
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program: () => require("../index") as Record<string, unknown>,
  });
  return environments;
}

/** Function resource name → "ok" or what is wrong with its policy against the calls it makes. */
async function policyAudit(): Promise<Map<string, string>> {
  return new Map();
}

function printTable(compiledBy: string, rows: readonly Row[]): void {
  const table = [
    ["function", "unzipped", "zipped", "runtime and Node.js flags", "loads", "cold start", "empty event", "policy"],
    ...rows.map((row) => [
      row.function,
      `${row.unzippedKiB} KiB`,
      `${row.zippedKiB} KiB`,
      row.flags,
      row.loads ? "yes" : "NO",
      row.coldStartMs !== undefined ? `${row.coldStartMs} ms` : "-",
      row.emptyEvent,
      row.policy,
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  console.log(`archives compiled by ${compiledBy}`);
  for (const row of table)
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    );
  const failed = rows.filter((row) => !row.ok).map((row) => row.function);
  console.log(
    failed.length === 0 ? `preflight: all ${rows.length} functions ok` : `preflight: FAILED for ${failed.join(", ")}`,
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
