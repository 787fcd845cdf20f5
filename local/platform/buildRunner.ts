import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { AwsEmulator } from "../emulators/aws";
import type { EmulatedBuild } from "../emulators/aws/codeBuild";
import AdmZip from "adm-zip";
import type { Logger } from "../../runtime/log";
import type { SealedBuildTools } from "./sealedBuildTools";

/** The buildspec phases CodeBuild runs, in order. */
export const PHASES = ["install", "pre_build", "build", "post_build"] as const;

interface Buildspec {
  readonly env?: { readonly shell?: string };
  readonly phases?: Partial<Record<(typeof PHASES)[number], { readonly commands?: readonly string[] }>>;
}

export interface BuildOutcome {
  readonly buildId: string;
  readonly status: "SUCCEEDED" | "FAILED";
  /** The phase that failed, if one did. */
  readonly failedPhase?: string;
  readonly logFile: string;
}

/**
 * Extracts a staged source zip into `dir`, as CodeBuild does into CODEBUILD_SRC_DIR, keeping the files' Unix modes.
 * adm-zip keeps every entry inside `dir` (an entry naming a path outside it lands inside, under its last parts).
 */
export function extractSource(zip: Uint8Array, dir: string): void {
  new AdmZip(Buffer.from(zip)).extractAllTo(dir, true, true);
}

/** The `aws` and `docker` a build runs: a folder first on its PATH, and the variables they need. */
export interface BuildTools {
  readonly binDir: string;
  readonly environment: Record<string, string>;
}

/**
 * Runs one build's buildspec for real: the staged source extracted into a temporary CODEBUILD_SRC_DIR, the project's
 * and the build's variables, each phase's commands in one bash (buildspec 0.2 keeps one shell per build: here one per
 * phase, with the commands in order and a failing command failing its phase), post_build even after a failure with
 * CODEBUILD_BUILD_SUCCEEDING=0, as CodeBuild does. Output goes to `logFile`. The environment is built from nothing
 * but PATH: none of this machine's AWS or Docker settings reach the build; `tools` come first on PATH.
 */
export async function runBuild(options: {
  build: EmulatedBuild;
  buildspec: string;
  projectVariables: readonly { name: string; value: string }[];
  source: Uint8Array;
  workDir: string;
  logFile: string;
  region: string;
  tools?: BuildTools;
}): Promise<BuildOutcome> {
  const { build } = options;
  const spec = JSON.parse(options.buildspec) as Buildspec;
  const sourceDir = path.join(options.workDir, "src");
  fs.mkdirSync(sourceDir, { recursive: true });
  extractSource(options.source, sourceDir);
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.createWriteStream(options.logFile);
  const systemPath = process.env.PATH ?? "/usr/bin:/bin";
  const variables: Record<string, string> = {
    ...options.tools?.environment,
    PATH: options.tools ? `${options.tools.binDir}${path.delimiter}${systemPath}` : systemPath,
    HOME: options.workDir,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    CODEBUILD_BUILD_ID: build.id,
    CODEBUILD_BUILD_ARN: build.arn,
    CODEBUILD_SRC_DIR: sourceDir,
    CODEBUILD_BUILD_SUCCEEDING: "1",
    ...Object.fromEntries(options.projectVariables.map((v) => [v.name, v.value])),
    ...Object.fromEntries((build.environmentVariablesOverride ?? []).map((v) => [v.name, v.value ?? ""])),
  };
  let failedPhase: string | undefined;
  for (const phase of PHASES) {
    const commands = spec.phases?.[phase]?.commands ?? [];
    if (commands.length === 0) continue;
    if (failedPhase && phase !== "post_build") continue;
    log.write(`\n[Container] Entering phase ${phase.toUpperCase()}\n`);
    const code = await runCommands(
      commands,
      { ...variables, CODEBUILD_BUILD_SUCCEEDING: failedPhase ? "0" : "1" },
      sourceDir,
      log,
    );
    log.write(`[Container] Phase complete: ${phase.toUpperCase()} State: ${code === 0 ? "SUCCEEDED" : "FAILED"}\n`);
    if (code !== 0 && !failedPhase) failedPhase = phase;
  }
  await new Promise((resolve) => log.end(resolve));
  return {
    buildId: build.id,
    status: failedPhase ? "FAILED" : "SUCCEEDED",
    ...(failedPhase ? { failedPhase } : {}),
    logFile: options.logFile,
  };
}

function runCommands(
  commands: readonly string[],
  env: Record<string, string>,
  cwd: string,
  log: fs.WriteStream,
): Promise<number> {
  return new Promise((resolve) => {
    // The commands run in order in one shell, as buildspec 0.2 runs a build's commands, stopping at the first that
    // fails. Each is followed by a check of its status rather than wrapped in `( … ) || exit`: bash ignores
    // `set -e` inside a command whose status `||` tests, so a failing step inside it would not fail it.
    const script = commands
      .map(
        (command) => `${command}\nslipway_status=$?\nif [ "$slipway_status" -ne 0 ]; then exit "$slipway_status"; fi`,
      )
      .join("\n");
    const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => log.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => log.write(chunk));
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/**
 * `npm start -- --run-builds`: watches the CodeBuild emulator for new builds and runs each one's buildspec for real,
 * sealed (`aws` and `docker` are Slipway's stand-ins, pushing to the local registry with the repository's tag
 * mutability), then marks it SUCCEEDED or FAILED. Without it, builds stay IN_PROGRESS, as recorded.
 */
export function startBuildRunner(options: {
  aws: AwsEmulator;
  projects: ReadonlyMap<string, Record<string, any>>;
  repositories: ReadonlyMap<string, { readonly imageTagMutability: string }>;
  tools: SealedBuildTools;
  stateDir: string;
  region: string;
  logger: Logger;
  onOutcome?: (outcome: BuildOutcome) => void;
  pollIntervalMs?: number;
}): { stop(): Promise<void> } {
  const started = new Set(options.aws.builds().map((b) => b.id));
  const running = new Set<Promise<void>>();
  let stopped = false;
  const tick = () => {
    for (const build of options.aws.builds()) {
      if (started.has(build.id)) continue;
      started.add(build.id);
      const project = options.projects.get(build.projectName);
      const [bucket, ...key] = (build.sourceLocationOverride ?? "").split("/");
      const source = bucket ? options.aws.getObject(bucket, key.join("/")) : undefined;
      if (!project || !source) {
        options.logger.error("cannot run build: project or staged source missing", { buildId: build.id });
        options.aws.finishBuild(build.id, "FAILED");
        continue;
      }
      const safeId = build.id.replace(/[^A-Za-z0-9_.-]/g, "_");
      const projectVariables: { name: string; value: string }[] = project.environment?.environmentVariables ?? [];
      const repositoryUrl = projectVariables.find((v) => v.name === "IMAGE_REPOSITORY_URI")?.value ?? "";
      const work = runBuild({
        build,
        buildspec: String(project.source?.buildspec ?? "{}"),
        projectVariables,
        tools: {
          binDir: options.tools.binDir,
          environment: options.tools.environment({
            registryHost: repositoryUrl.split("/")[0] ?? "",
            // ECR's default, for a repository the stack did not declare.
            imageTagMutability: options.repositories.get(repositoryUrl)?.imageTagMutability ?? "MUTABLE",
          }),
        },
        source: source.body,
        workDir: fs.mkdtempSync(path.join(options.stateDir, "builds", `${safeId}-`)),
        logFile: path.join(options.stateDir, "builds", `${safeId}.log`),
        region: options.region,
      })
        .then((outcome) => {
          options.aws.finishBuild(build.id, outcome.status);
          options.onOutcome?.(outcome);
        })
        .catch((error: unknown) => {
          options.logger.error("build runner failed", { buildId: build.id, error: String(error) });
          options.aws.finishBuild(build.id, "FAILED");
        })
        .finally(() => running.delete(work));
      running.add(work);
    }
  };
  fs.mkdirSync(path.join(options.stateDir, "builds"), { recursive: true });
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, options.pollIntervalMs ?? 250);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(running);
    },
  };
}
