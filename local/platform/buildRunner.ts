import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { AwsEmulator } from "../emulators/aws";
import type { EmulatedBuild, PhaseOutcome } from "../emulators/aws/codeBuild";
import { readZip } from "../emulators/zip";
import type { Logger } from "../../runtime/log";
import { repositoryOf } from "./simulatedBuilds";

/** The buildspec phases CodeBuild runs, in order. */
export const PHASES = ["install", "pre_build", "build", "post_build"] as const;

interface Buildspec {
  readonly env?: { readonly shell?: string };
  readonly phases?: Partial<Record<(typeof PHASES)[number], { readonly commands?: readonly string[] }>>;
}

export interface BuildOutcome {
  readonly buildId: string;
  readonly status: "SUCCEEDED" | "FAILED" | "STOPPED";
  /** The phase that failed, if one did. */
  readonly failedPhase?: string;
  readonly logFile: string;
}

/** Extracts a staged source zip into `dir`, as CodeBuild does into CODEBUILD_SRC_DIR. */
export function extractSource(zip: Uint8Array, dir: string): void {
  for (const entry of readZip(zip).entries) {
    const target = path.resolve(dir, entry.path);
    if (!target.startsWith(path.resolve(dir) + path.sep))
      throw new Error(`zip entry escapes the source folder: ${entry.path}`);
    if (entry.path.endsWith("/")) fs.mkdirSync(target, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, entry.content, { mode: entry.mode & 0o777 || 0o644 });
    }
  }
}

/** What a caller learns while a build runs, and how it stops one. */
export interface BuildHooks {
  /** A buildspec phase ended (its commands ran, or it had none) with this exit code. */
  phaseEnded?(phase: (typeof PHASES)[number], code: number): void;
  /** The build's output as it comes (what goes to the log file). */
  output?(chunk: string): void;
  /** Aborting kills the running commands and runs nothing more: the build ends STOPPED. */
  signal?: AbortSignal;
}

/**
 * Runs one build's buildspec for real: the staged source extracted into a temporary CODEBUILD_SRC_DIR, the project's
 * and the build's variables, each phase's commands in one bash (buildspec 0.2 keeps one shell per build: here one per
 * phase, with the commands in order and a failing command failing its phase). After a failing build phase,
 * post_build still runs with CODEBUILD_BUILD_SUCCEEDING=0; after a failing install or pre_build nothing more runs
 * (CodeBuild goes to FINALIZING), as CodeBuild's phase transitions go. Output goes to `logFile`.
 */
export async function runBuild(options: {
  build: EmulatedBuild;
  buildspec: string;
  projectVariables: readonly { name: string; value: string }[];
  source: Uint8Array;
  workDir: string;
  logFile: string;
  region: string;
  hooks?: BuildHooks;
}): Promise<BuildOutcome> {
  const { build } = options;
  const hooks = options.hooks ?? {};
  const spec = JSON.parse(options.buildspec) as Buildspec;
  const sourceDir = path.join(options.workDir, "src");
  fs.mkdirSync(sourceDir, { recursive: true });
  extractSource(options.source, sourceDir);
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const file = fs.createWriteStream(options.logFile);
  const log = {
    write(chunk: string | Buffer) {
      file.write(chunk);
      hooks.output?.(chunk.toString());
    },
  };
  const variables: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
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
    if (hooks.signal?.aborted) break;
    // Only a failing build phase lets post_build run; after install or pre_build, CodeBuild finalizes.
    if (failedPhase && (phase !== "post_build" || failedPhase !== "build")) continue;
    const commands = spec.phases?.[phase]?.commands ?? [];
    let code = 0;
    if (commands.length > 0) {
      log.write(`\n[Container] Entering phase ${phase.toUpperCase()}\n`);
      code = await runCommands(
        commands,
        { ...variables, CODEBUILD_BUILD_SUCCEEDING: failedPhase ? "0" : "1" },
        sourceDir,
        log,
        hooks.signal,
      );
      if (hooks.signal?.aborted) break;
      log.write(`[Container] Phase complete: ${phase.toUpperCase()} State: ${code === 0 ? "SUCCEEDED" : "FAILED"}\n`);
    }
    if (code !== 0 && !failedPhase) failedPhase = phase;
    hooks.phaseEnded?.(phase, code);
  }
  await new Promise((resolve) => file.end(resolve));
  return {
    buildId: build.id,
    status: hooks.signal?.aborted ? "STOPPED" : failedPhase ? "FAILED" : "SUCCEEDED",
    ...(failedPhase ? { failedPhase } : {}),
    logFile: options.logFile,
  };
}

function runCommands(
  commands: readonly string[],
  env: Record<string, string>,
  cwd: string,
  log: { write(chunk: string | Buffer): void },
  signal?: AbortSignal,
): Promise<number> {
  return new Promise((resolve) => {
    // Each command runs, stopping at the first that fails: "cmd1 && cmd2" semantics without splicing their text.
    const script = commands.map((command) => `( ${command}\n) || exit $?`).join("\n");
    // Its own process group, so a stop ends the commands it started too.
    const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    signal?.addEventListener("abort", kill, { once: true });
    child.stdout.on("data", (chunk: Buffer) => log.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => log.write(chunk));
    child.on("close", (code) => {
      signal?.removeEventListener("abort", kill);
      resolve(code ?? 1);
    });
  });
}

/** The digest a buildspec's `docker push` reported (the buildspec prints `…@sha256:<hex>`), if any. */
export function pushedDigest(output: string): string | undefined {
  return /@(sha256:[0-9a-f]{64})\b/.exec(output)?.[1];
}

/**
 * `npm start -- --run-builds`: runs each build the CodeBuild emulator starts, for real, walking the emulator's phases
 * as it goes (so the build's events are CodeBuild's): PROVISIONING and DOWNLOAD_SOURCE (the staged source), then one
 * buildspec phase after another, each ending as its commands exit, then UPLOAD_ARTIFACTS and FINALIZING. The output is
 * the build's CloudWatch Logs stream (and `.slipway/builds/<id>.log`). A build whose post_build pushed an image (its
 * output names the digest) has it recorded in the local ECR; one that pushed nothing has no image, as in AWS.
 * StopBuild kills its commands.
 */
export function startBuildRunner(options: {
  aws: AwsEmulator;
  projects: ReadonlyMap<string, Record<string, any>>;
  stateDir: string;
  region: string;
  logger: Logger;
  onOutcome?: (outcome: BuildOutcome) => void;
}): { stop(): Promise<void> } {
  const { aws } = options;
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  const advance = (id: string, outcome: PhaseOutcome = {}) => {
    try {
      return aws.advanceBuild(id, outcome);
    } catch {
      return "COMPLETED"; // stopped meanwhile: CodeBuild has ended it
    }
  };
  const finishWalk = (id: string) => {
    let phase = aws.builds().find((b) => b.id === id)?.currentPhase;
    while (phase && phase !== "COMPLETED") phase = advance(id);
  };

  const start = (build: EmulatedBuild) => {
    const project = options.projects.get(build.projectName);
    const [bucket, ...key] = (build.sourceLocationOverride ?? "").split("/");
    const source = bucket ? aws.getObject(bucket, key.join("/")) : undefined;
    advance(build.id); // QUEUED → PROVISIONING
    advance(build.id); // → DOWNLOAD_SOURCE
    if (!project || !source) {
      options.logger.error("cannot run build: project or staged source missing", { buildId: build.id });
      advance(build.id, {
        status: "CLIENT_ERROR",
        context: { statusCode: "CLIENT_ERROR", message: "the staged source is missing" },
      });
      return finishWalk(build.id);
    }
    advance(build.id); // → INSTALL
    const { groupName, streamName } = aws.buildLogs(build.id);
    let pending = "";
    let output = "";
    const toLogs = (chunk: string) => {
      output += chunk;
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      const now = Date.now();
      if (lines.length)
        aws.putLogEvents(
          groupName,
          streamName,
          lines.map((message) => ({ timestamp: now, message })),
        );
    };
    const abort = new AbortController();
    const safeId = build.id.replace(/[^A-Za-z0-9_.-]/g, "_");
    const deploymentId = build.environmentVariablesOverride?.find((v) => v.name === "DEPLOYMENT_ID")?.value;
    const done = runBuild({
      build,
      buildspec: String(project.source?.buildspec ?? "{}"),
      projectVariables: project.environment?.environmentVariables ?? [],
      source: source.body,
      workDir: fs.mkdtempSync(path.join(options.stateDir, "builds", `${safeId}-`)),
      logFile: path.join(options.stateDir, "builds", `${safeId}.log`),
      region: options.region,
      hooks: {
        output: toLogs,
        signal: abort.signal,
        phaseEnded: (phase, code) => {
          const digest = pushedDigest(output);
          const repository = repositoryOf(aws, build);
          if (phase === "post_build" && code === 0 && digest && repository && deploymentId) {
            aws.putImage(repository.name, deploymentId, digest);
          }
          advance(
            build.id,
            code === 0
              ? {}
              : {
                  status: "FAILED",
                  context: {
                    statusCode: "COMMAND_EXECUTION_ERROR",
                    message: `Error while executing command in ${phase.toUpperCase()}. Reason: exit status ${code}`,
                  },
                },
          );
        },
      },
    })
      .then((outcome) => {
        if (pending) toLogs("\n");
        finishWalk(build.id);
        options.onOutcome?.(outcome);
      })
      .catch((error: unknown) => {
        options.logger.error("build runner failed", { buildId: build.id, error: String(error) });
        advance(build.id, { status: "FAULT" });
        finishWalk(build.id);
      })
      .finally(() => running.delete(build.id));
    running.set(build.id, { abort, done });
  };

  fs.mkdirSync(path.join(options.stateDir, "builds"), { recursive: true });
  const unsubscribe = aws.onCodeBuild({
    onStarted: start,
    onStopRequested: (build) => running.get(build.id)?.abort.abort(),
  });
  return {
    async stop() {
      unsubscribe();
      for (const build of running.values()) build.abort.abort();
      await Promise.all([...running.values()].map((build) => build.done));
    },
  };
}
