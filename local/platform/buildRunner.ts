import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { GetBucketAclCommand, GetBucketLocationCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { AwsEmulator } from "../emulators/aws";
import type { PrincipalRegistry } from "./iam/principals";
import { logStreamWriter } from "./iam/logWrites";
import type { EmulatedBuild } from "../emulators/aws/codeBuild";
import { readZip } from "../emulators/zip";
import type { Logger } from "../../runtime/log";

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
  readonly status: "SUCCEEDED" | "FAILED";
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

/**
 * Runs one build's buildspec for real: the staged source extracted into a temporary CODEBUILD_SRC_DIR, the project's
 * and the build's variables, each phase's commands in one bash (buildspec 0.2 keeps one shell per build: here one per
 * phase, with the commands in order and a failing command failing its phase), post_build even after a failure with
 * CODEBUILD_BUILD_SUCCEEDING=0, as CodeBuild does. Output goes to `logFile`.
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
    // Each command runs, stopping at the first that fails: "cmd1 && cmd2" semantics without splicing their text.
    const script = commands.map((command) => `( ${command}\n) || exit $?`).join("\n");
    const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => log.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => log.write(chunk));
    child.on("close", (code) => resolve(code ?? 1));
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
 * role's credentials, its log stream written as it goes. Each build ends SUCCEEDED or FAILED. Without it, builds
 * stay IN_PROGRESS, as recorded.
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
}): BuildRunner {
  const started = new Set(options.aws.builds().map((b) => b.id));
  const running = new Set<Promise<void>>();
  let stopped = false;

  const execute = async (build: EmulatedBuild): Promise<BuildOutcome> => {
    const project = options.projects.get(build.projectName);
    const roleArn = String(project?.serviceRole ?? "");
    const roleName = roleArn.slice(roleArn.lastIndexOf("/") + 1);
    const safeId = build.id.replace(/[^A-Za-z0-9_.-]/g, "_");
    const logFile = path.join(options.stateDir, "builds", `${safeId}.log`);
    if (!project || !roleName) throw new Error(`build ${build.id}: its project or service role is not declared`);
    const credentials = options.iam.credentialsFor(roleName);
    const logGroup = String(project.logsConfig?.cloudwatchLogs?.groupName ?? `/aws/codebuild/${build.projectName}`);
    const logs = logStreamWriter({
      iam: options.iam,
      accessKeyId: credentials.accessKeyId,
      region: options.region,
      accountId: options.accountId,
      logGroup,
      streamName: build.id.slice(build.id.lastIndexOf(":") + 1),
    });
    const s3 = new S3Client({
      endpoint: options.aws.url,
      region: options.region,
      forcePathStyle: true,
      credentials,
    });
    try {
      const prepared = await prepareBuild({ build, logs, s3 });
      if (prepared.failure) {
        fs.mkdirSync(path.dirname(logFile), { recursive: true });
        fs.writeFileSync(
          logFile,
          `[Container] Phase complete: ${prepared.failure.phase} State: FAILED\n${prepared.failure.message}\n`,
        );
        return { buildId: build.id, status: "FAILED", failedPhase: prepared.failure.phase, logFile };
      }
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
        },
        ...(options.toolsDir ? { toolsDir: options.toolsDir } : {}),
      });
      // The phases' output reaches the build's log stream.
      await logs.write();
      return outcome;
    } finally {
      s3.destroy();
    }
  };

  const tick = () => {
    for (const build of options.aws.builds()) {
      if (started.has(build.id)) continue;
      started.add(build.id);
      const work = execute(build)
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
    async idle() {
      tick();
      while (running.size > 0) {
        await Promise.all(running);
        tick();
      }
    },
  };
}
