/**
 * `npm run preflight`: what a careful engineer checks before `pulumi up`, with no AWS account.
 *
 *   npm run preflight [-- --rebuild] [--json] [--skip-audit]
 *
 * 1. Builds every function archive the way `pulumi up` does (Pulumi's ts-node registration, the project's
 *    TypeScript and tsconfig, each callback serialized and bundled).
 * 2. Loads each under Lambda's Node.js flags for its runtime, with only the runtime's AWS SDK beside it, and invokes
 *    it once with an empty event.
 * 3. Runs an end-to-end scenario on the local platform (every builder's build included), records every AWS call
 *    each role makes, and checks with the IAM simulator that each policy allows all of them and nothing more.
 *    `--skip-audit` leaves step 3 to `npm run test:slow`, which runs the same scenario and fails on any finding (CI
 *    runs both, and the scenario takes minutes).
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
import { auditScenario } from "../local/platform/policyAudit";
import { textTable } from "./textTable";

const USAGE = "usage: preflight [--rebuild] [--json] [--skip-audit]";
const PROJECT_ROOT = path.resolve(__dirname, "..");
const SKIPPED_AUDIT = "not audited (--skip-audit)";
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
      options: {
        rebuild: { type: "boolean" },
        json: { type: "boolean" },
        "skip-audit": { type: "boolean" },
        help: { type: "boolean" },
      },
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
  const scratch = fs.mkdtempSync(path.join(tmpdir(), "slipway-preflight-"));
  const rows: Row[] = [];
  const findings: string[] = [];
  try {
    const runtimeModules = lambdaRuntimeModules(PROJECT_ROOT, path.join(scratch, "runtime"));
    const audit = values["skip-audit"] ? undefined : await policyAudit();
    findings.push(...(audit?.findings ?? []));
    for (const [name, settings] of Object.entries(archives.manifest.functions).sort()) {
      const codeDir = archives.codeDir(name);
      const size = archiveSize(codeDir);
      const outcome = await loadUnderLambda({
        name,
        codeDir,
        handler: settings.handler,
        runtime: settings.runtime,
        memorySizeMb: settings.memorySize,
        environment: settings.environment,
        runtimeModulesDir: runtimeModules,
      });
      const overBudget = name.endsWith("-inspector") && size.unzippedBytes > INSPECTOR_BUDGET_BYTES;
      const policy = audit ? (audit.verdicts.get(`function ${name}`) ?? "no calls recorded") : SKIPPED_AUDIT;
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
        ok: outcome.loaded && outcome.result.ok && !overBudget && (policy === "ok" || policy === SKIPPED_AUDIT),
      });
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  if (values.json)
    process.stdout.write(`${JSON.stringify({ compiledBy: archives.manifest.compiledBy, rows }, null, 2)}\n`);
  else printTable(archives.manifest.compiledBy, rows, findings);
  return rows.every((row) => row.ok) && findings.length === 0 ? 0 : 1;
}

/**
 * Every role's policy against the calls it made in an end-to-end scenario on the local platform (IAM simulator):
 * owner (`function <name>` or `build project <name>`) → "ok" or the number of findings, and the findings' words.
 */
async function policyAudit(): Promise<{ verdicts: Map<string, string>; findings: string[] }> {
  process.stderr.write("recording every AWS call of an end-to-end scenario on the local platform…\n");
  const { recording, audits, findings } = await auditScenario();
  const verdicts = new Map<string, string>();
  for (const [role, audit] of Object.entries(audits)) {
    const owner = recording.roleOwners[role];
    if (!owner) continue;
    const count = audit.denied.length + audit.unusedStatements.length + audit.unusedActions.length;
    verdicts.set(`${owner.kind} ${owner.name}`, audit.ok ? "ok" : `${count + audit.unusedResources.length} finding(s)`);
  }
  for (const step of recording.steps) {
    if (step.expected !== step.actual)
      findings.push(`scenario step ${step.name}: expected ${step.expected}, got ${step.actual}`);
  }
  const projects = [...verdicts].filter(([owner]) => owner.startsWith("build project "));
  const projectsOk = projects.filter(([, verdict]) => verdict === "ok").length;
  process.stderr.write(`build project roles: ${projectsOk}/${projects.length} allow exactly what their builds call\n`);
  return { verdicts, findings };
}

function printTable(compiledBy: string, rows: readonly Row[], findings: readonly string[]): void {
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
  console.log(`archives compiled by ${compiledBy}`);
  for (const line of textTable(table)) console.log(line);
  for (const finding of findings) console.log(`  ${finding}`);
  const failed = rows.filter((row) => !row.ok).map((row) => row.function);
  if (findings.length > 0) failed.push("policies (see above)");
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
