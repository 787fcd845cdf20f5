import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { GetBucketAclCommand, GetBucketLocationCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { AwsEmulator } from "../emulators/aws";
import type { PrincipalRegistry } from "./iam/principals";
import { logStreamWriter } from "./iam/logWrites";
import type { EmulatedBuild, PhaseOutcome } from "../emulators/aws/codeBuild";
import AdmZip from "adm-zip";
import type { Logger } from "../../runtime/log";
import type { SealedBuildTools } from "./sealedBuildTools";

/**
 * Stand-ins for the `aws` CLI and `docker`, for builds on a machine without a Docker engine (or the CLI): they make
 * the AWS calls the real tools would for Slipway's buildspec (logins, the push's ECR calls), under the build's role.
 */
export const BUILD_TOOL_STAND_INS = path.join(__dirname, "buildTools");

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

/**
 * Extracts a staged source zip into `dir`, as CodeBuild does into CODEBUILD_SRC_DIR, keeping the files' Unix modes.
 * adm-zip keeps every entry inside `dir` (an entry naming a path outside it lands inside, under its last parts).
 */
export function extractSource(zip: Uint8Array, dir: string): void {
  new AdmZip(Buffer.from(zip)).extractAllTo(dir, true, true);
}

/** What a caller learns while a build runs, and how it stops one. */
export interface BuildHooks {
  /** A buildspec phase ended (its commands ran, or it had none) with this exit code. */
  phaseEnded?(phase: (typeof PHASES)[number], code: number): void | Promise<void>;
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
 * (CodeBuild goes to FINALIZING), as CodeBuild's phase transitions go
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html). Output goes to `logFile`.
 */
export async function runBuild(options: {
  build: EmulatedBuild;
  buildspec: string;
  projectVariables: readonly { name: string; value: string }[];
  source: Uint8Array;
  workDir: string;
  logFile: string;
  region: string;
  /**
   * Variables CodeBuild's environment adds: the service role's credentials and where AWS is (CodeBuild serves the
   * role's credentials from a container endpoint; locally they are plain variables, with AWS_ENDPOINT_URL pointing
   * the CLI at the AWS emulator).
   */
  environment?: Readonly<Record<string, string>>;
  /** A folder put first on the commands' PATH (stand-ins for tools this machine lacks). */
  toolsDir?: string;
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
  const systemPath = process.env.PATH ?? "/usr/bin:/bin";
  const variables: Record<string, string> = {
    PATH: options.toolsDir ? `${options.toolsDir}${path.delimiter}${systemPath}` : systemPath,
    HOME: options.workDir,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    CODEBUILD_BUILD_ID: build.id,
    CODEBUILD_BUILD_ARN: build.arn,
    CODEBUILD_SRC_DIR: sourceDir,
    CODEBUILD_BUILD_SUCCEEDING: "1",
    ...options.environment,
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
    await hooks.phaseEnded?.(phase, code);
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
    // The commands run in order in one shell, as buildspec 0.2 runs a build's commands, stopping at the first that
    // fails. Each is followed by a check of its status rather than wrapped in `( … ) || exit`: bash ignores
    // `set -e` inside a command whose status `||` tests, so a failing step inside it would not fail it.
    const script = commands
      .map(
        (command) => `${command}\nslipway_status=$?\nif [ "$slipway_status" -ne 0 ]; then exit "$slipway_status"; fi`,
      )
      .join("\n");
    // Its own process group, so a stop (StopBuild) ends the commands it started too.
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

export interface BuildRunner {
  stop(): Promise<void>;
  /** Resolves once every build started so far has been run and has ended. */
  idle(): Promise<void>;
}

/** What a build needs before its first phase, fetched as CodeBuild fetches it with the project's service role. */
interface PreparedBuild {
  readonly source?: Uint8Array;
  /** Why CodeBuild would fail the build before running it (AWS's wording where known). */
  readonly failure?: { readonly phase: string; readonly message: string };
}

/**
 * The calls CodeBuild makes with the project's service role before a build from an S3 source runs, as AWS's minimum
 * service-role policy describes them (https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html):
 * create the build's log stream in the project's log group, check the source bucket (its ACL and location), then
 * download the source object. Each goes through IAM with the role's key, so a missing permission fails the build as
 * on AWS.
 */
async function prepareBuild(options: {
  build: EmulatedBuild;
  logs: { write(): Promise<boolean> };
  s3: S3Client;
}): Promise<PreparedBuild> {
  if (!(await options.logs.write())) {
    return {
      failure: {
        phase: "PROVISIONING",
        message:
          "ACCESS_DENIED: Service role does not allow AWS CodeBuild to create Amazon CloudWatch Logs log streams",
      },
    };
  }
  const location = options.build.sourceLocationOverride ?? "";
  const slash = location.indexOf("/");
  const [bucket, key] = slash > 0 ? [location.slice(0, slash), location.slice(slash + 1)] : [location, ""];
  try {
    await options.s3.send(new GetBucketAclCommand({ Bucket: bucket }));
    await options.s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    const object = await options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { source: await object.Body!.transformToByteArray() };
  } catch (error) {
    const name = (error as { name?: string }).name ?? "Error";
    return {
      failure: {
        phase: "DOWNLOAD_SOURCE",
        message: `CLIENT_ERROR: ${name}: ${(error as Error).message} for primary source and source version ${location}`,
      },
    };
  }
}

/**
 * `npm start -- --run-builds`: watches the CodeBuild emulator for new builds and runs each as CodeBuild would, with
 * the project's service role: CodeBuild's own calls first (`prepareBuild`), then the buildspec's phases with the
 * role's credentials, its log stream written as it goes (GetLogEvents reads it). The emulator's phases move with the
 * build (PROVISIONING, DOWNLOAD_SOURCE, then each buildspec phase as its commands exit, then UPLOAD_ARTIFACTS and
 * FINALIZING), so its events are CodeBuild's; StopBuild kills the commands. Each build ends SUCCEEDED, FAILED or
 * STOPPED. The image a build pushes lands in the local registry, where ECR's DescribeImages finds it. Without
 * `--run-builds`, builds are simulated (simulatedBuilds.ts).
 */
export function startBuildRunner(options: {
  aws: AwsEmulator;
  projects: ReadonlyMap<string, Record<string, any>>;
  /** Issues each project's service role its key and decides its calls. */
  iam: PrincipalRegistry;
  stateDir: string;
  region: string;
  accountId: string;
  logger: Logger;
  onOutcome?: (outcome: BuildOutcome) => void;
  pollIntervalMs?: number;
  /** A folder put first on every build's PATH (`local/platform/buildTools`: stand-ins for `aws` and `docker`). */
  toolsDir?: string;
  /**
   * `npm start -- --run-builds`: the sealed stand-ins (`local/platform/sealedTools`), first on every build's PATH,
   * pushing to the local registry with the image repository's tag mutability. Instead of `toolsDir`.
   */
  sealedTools?: SealedBuildTools;
  /** ECR repositories by URL, for their tag mutability. */
  repositories?: ReadonlyMap<string, { readonly imageTagMutability: string }>;
}): BuildRunner {
  const started = new Set(options.aws.builds().map((b) => b.id));
  const running = new Set<Promise<void>>();
  let stopped = false;

  /** The sealed stand-ins' variables for a project's image repository. */
  const sealedEnvironment = (project: Record<string, any>): Record<string, string> => {
    if (!options.sealedTools) return {};
    const variables: { name: string; value: string }[] = project.environment?.environmentVariables ?? [];
    const repositoryUrl = variables.find((v) => v.name === "IMAGE_REPOSITORY_URI")?.value ?? "";
    return options.sealedTools.environment({
      registryHost: repositoryUrl.split("/")[0] ?? "",
      // ECR's default, for a repository the stack did not declare.
      imageTagMutability: options.repositories?.get(repositoryUrl)?.imageTagMutability ?? "MUTABLE",
    });
  };

  /** Ends the build's current phase and enters the next; a build stopped meanwhile has ended already. */
  const advance = (id: string, outcome: PhaseOutcome = {}) => {
    try {
      return options.aws.advanceBuild(id, outcome);
    } catch {
      return "COMPLETED";
    }
  };
  const finishWalk = (id: string) => {
    let phase = options.aws.builds().find((b) => b.id === id)?.currentPhase;
    while (phase && phase !== "COMPLETED") phase = advance(id);
  };
  const aborts = new Map<string, AbortController>();

  const execute = async (build: EmulatedBuild): Promise<BuildOutcome> => {
    const project = options.projects.get(build.projectName);
    const roleArn = String(project?.serviceRole ?? "");
    const roleName = roleArn.slice(roleArn.lastIndexOf("/") + 1);
    const safeId = build.id.replace(/[^A-Za-z0-9_.-]/g, "_");
    const logFile = path.join(options.stateDir, "builds", `${safeId}.log`);
    if (!project || !roleName) throw new Error(`build ${build.id}: its project or service role is not declared`);
    const credentials = options.iam.credentialsFor(roleName);
    const { groupName: logGroup, streamName } = options.aws.buildLogs(build.id);
    const logs = logStreamWriter({
      iam: options.iam,
      accessKeyId: credentials.accessKeyId,
      region: options.region,
      accountId: options.accountId,
      logGroup,
      streamName,
    });
    // The output, line by line, into the build's stream, when the service role may write it (as CodeBuild does).
    let written = Promise.resolve();
    let partial = "";
    const appendLog = (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      if (lines.length === 0) return;
      const now = Date.now();
      written = written.then(async () => {
        if (await logs.write()) {
          options.aws.putLogEvents(
            logGroup,
            streamName,
            lines.map((message) => ({ timestamp: now, message })),
          );
        }
      });
    };
    const s3 = new S3Client({
      endpoint: options.aws.url,
      region: options.region,
      forcePathStyle: true,
      credentials,
    });
    const abort = new AbortController();
    aborts.set(build.id, abort);
    try {
      advance(build.id); // QUEUED → PROVISIONING
      const prepared = await prepareBuild({ build, logs, s3 });
      if (prepared.failure) {
        fs.mkdirSync(path.dirname(logFile), { recursive: true });
        const text = `[Container] Phase complete: ${prepared.failure.phase} State: FAILED\n${prepared.failure.message}\n`;
        fs.writeFileSync(logFile, text);
        appendLog(text);
        if (prepared.failure.phase === "DOWNLOAD_SOURCE") advance(build.id); // PROVISIONING went well
        const [statusCode = "CLIENT_ERROR", ...message] = prepared.failure.message.split(": ");
        advance(build.id, { status: "CLIENT_ERROR", context: { statusCode, message: message.join(": ") } });
        return { buildId: build.id, status: "FAILED", failedPhase: prepared.failure.phase, logFile };
      }
      // Stopped while CodeBuild prepared it: nothing of the buildspec runs.
      if (abort.signal.aborted) return { buildId: build.id, status: "STOPPED", logFile };
      advance(build.id); // PROVISIONING → DOWNLOAD_SOURCE
      advance(build.id); // → INSTALL
      const outcome = await runBuild({
        build,
        buildspec: String(project.source?.buildspec ?? "{}"),
        projectVariables: project.environment?.environmentVariables ?? [],
        source: prepared.source!,
        workDir: fs.mkdtempSync(path.join(options.stateDir, "builds", `${safeId}-`)),
        logFile,
        region: options.region,
        environment: {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_ENDPOINT_URL: options.aws.url,
          ...sealedEnvironment(project),
        },
        ...(options.sealedTools
          ? { toolsDir: options.sealedTools.binDir }
          : options.toolsDir
            ? { toolsDir: options.toolsDir }
            : {}),
        hooks: {
          output: appendLog,
          signal: abort.signal,
          // Each buildspec phase ends its CodeBuild phase, with the commands' exit: CodeBuild's events follow.
          phaseEnded: (phase, code) => {
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
      });
      if (partial) appendLog("\n");
      await written;
      return outcome;
    } finally {
      aborts.delete(build.id);
      s3.destroy();
    }
  };

  const tick = () => {
    for (const build of options.aws.builds()) {
      if (started.has(build.id)) continue;
      started.add(build.id);
      const work = execute(build)
        .then((outcome) => {
          finishWalk(build.id); // UPLOAD_ARTIFACTS, FINALIZING, COMPLETED: the final state change
          options.onOutcome?.(outcome);
        })
        .catch((error: unknown) => {
          options.logger.error("build runner failed", { buildId: build.id, error: String(error) });
          advance(build.id, { status: "FAULT" });
          finishWalk(build.id);
        })
        .finally(() => running.delete(work));
      running.add(work);
    }
  };
  // StopBuild kills the build's commands; CodeBuild ends the build itself.
  const unsubscribe = options.aws.onCodeBuild({
    onStopRequested: (build) => aborts.get(build.id)?.abort(),
  });
  fs.mkdirSync(path.join(options.stateDir, "builds"), { recursive: true });
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, options.pollIntervalMs ?? 250);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      for (const abort of aborts.values()) abort.abort();
      await Promise.all(running);
    },
    async idle() {
      tick();
      while (running.size > 0) {
        await Promise.all(running);
        tick();
      }
    },
  };
}
