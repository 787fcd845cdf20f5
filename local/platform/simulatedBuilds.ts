import { createHash } from "node:crypto";
import type { AwsEmulator, EmulatedBuild, PhaseOutcome } from "../emulators/aws";
import AdmZip from "adm-zip";
import type { Logger } from "../../runtime/log";

/**
 * `npm start` without `--run-builds`: every build is SIMULATED. Nothing of the buildspec runs and no image is built;
 * the build walks CodeBuild's real phases (so the same events reach the stack's rules), says plainly in its log that
 * it is simulated, and after `seconds` ends SUCCEEDED with a synthetic image recorded in the local ECR under the
 * deployment id tag, as the buildspec would push it.
 *
 * A repository holding `.slipway/simulate-failure` at its root fails its simulated build, in the BUILD phase unless
 * the file names another buildspec phase (INSTALL, PRE_BUILD, BUILD or POST_BUILD) on its first line. One holding
 * `.slipway/simulate-seconds` (a number) takes that long instead of the platform's setting (to try cancel, say).
 */
export const SIMULATE_FAILURE_FILE = ".slipway/simulate-failure";
export const SIMULATE_SECONDS_FILE = ".slipway/simulate-seconds";
const BUILDSPEC_PHASES = ["INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD"];
/** The phases a build goes through after QUEUED: each takes an equal share of the simulated time. */
const WALKED = 9;

export interface SimulatedBuildOutcome {
  readonly buildId: string;
  readonly status: string;
  readonly failedPhase?: string;
  readonly digest?: string;
}

export interface SimulatedBuilds {
  stop(): Promise<void>;
}

/** What the repository asks of its simulated build, from the staged source: where it fails, how long it takes. */
export function simulationOf(source: Uint8Array | undefined): { failIn?: string; seconds?: number } {
  if (!source) return {};
  // A GitHub zipball holds one top folder (`owner-repo-sha/`); the repository's root is inside it.
  const entries = new AdmZip(Buffer.from(source)).getEntries();
  const firstLine = (file: string) => {
    const entry = entries.find((candidate) => candidate.entryName.split("/").slice(1).join("/") === file);
    return entry ? entry.getData().toString("utf8").split("\n")[0]!.trim() : undefined;
  };
  const failure = firstLine(SIMULATE_FAILURE_FILE);
  const seconds = Number(firstLine(SIMULATE_SECONDS_FILE) ?? NaN);
  return {
    ...(failure !== undefined
      ? { failIn: BUILDSPEC_PHASES.includes(failure.toUpperCase()) ? failure.toUpperCase() : "BUILD" }
      : {}),
    ...(seconds >= 0 ? { seconds } : {}),
  };
}

/** The synthetic digest of a simulated build's image: stable for the build, shaped like a real one. */
export const syntheticDigest = (buildId: string) =>
  `sha256:${createHash("sha256").update(`simulated:${buildId}`).digest("hex")}`;

/** CodeBuild's log line prefix: `[Container] 2024/01/31 12:34:56.123456 …`. */
export function containerLine(now: Date, text: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const stamp =
    `${now.getUTCFullYear()}/${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())} ` +
    `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}.${pad(now.getUTCMilliseconds(), 3)}000`;
  return `[Container] ${stamp} ${text}`;
}

export function startSimulatedBuilds(options: {
  aws: AwsEmulator;
  /** Seconds a simulated build takes from start to end. */
  seconds: number;
  logger: Logger;
  onOutcome?: (outcome: SimulatedBuildOutcome) => void;
}): SimulatedBuilds {
  const { aws } = options;
  const running = new Map<string, { timer?: NodeJS.Timeout; done: Promise<void>; finish: () => void }>();
  let stopped = false;

  const log = (build: EmulatedBuild, ...lines: string[]) => {
    const { groupName, streamName } = aws.buildLogs(build.id);
    const now = new Date();
    aws.putLogEvents(
      groupName,
      streamName,
      lines.map((text) => ({ timestamp: now.getTime(), message: containerLine(now, text) })),
    );
  };
  const variable = (build: EmulatedBuild, name: string) =>
    build.environmentVariablesOverride?.find((v) => v.name === name)?.value;

  const run = (build: EmulatedBuild) => {
    let finish = () => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    const state: { timer?: NodeJS.Timeout; done: Promise<void>; finish: () => void } = { done, finish };
    running.set(build.id, state);
    const [bucket, ...key] = (build.sourceLocationOverride ?? "").split("/");
    const source = bucket ? aws.getObject(bucket, key.join("/"))?.body : undefined;
    const { failIn, seconds = options.seconds } = simulationOf(source);
    const stepMs = Math.max(1, Math.round((seconds * 1000) / WALKED));
    const deploymentId = variable(build, "DEPLOYMENT_ID");
    log(
      build,
      "This build is SIMULATED (npm start without --run-builds): no buildspec command runs and no image is built.",
      `It walks CodeBuild's phases for ${seconds} s and ends ${failIn ? `FAILED in ${failIn}, as ${SIMULATE_FAILURE_FILE} asks` : "SUCCEEDED with a synthetic image digest"}.`,
      `Run \`npm start -- --run-builds\` to run the real buildspec. Deployment ${deploymentId ?? "?"}, commit ${variable(build, "COMMIT_SHA") ?? "?"}.`,
    );
    const end = (outcome: SimulatedBuildOutcome) => {
      running.delete(build.id);
      finish();
      options.onOutcome?.(outcome);
    };
    const step = () => {
      state.timer = undefined;
      const current = aws.builds().find((candidate) => candidate.id === build.id);
      if (stopped || !current) return end({ buildId: build.id, status: "ABANDONED" });
      if (current.buildStatus !== "IN_PROGRESS") return end({ buildId: build.id, status: current.buildStatus });
      const phase = current.currentPhase;
      let outcome: PhaseOutcome = {};
      if (phase === failIn) {
        log(build, `Phase ${phase}: simulated failure (${SIMULATE_FAILURE_FILE} in the repository).`);
        outcome = {
          status: "FAILED",
          context: {
            statusCode: "COMMAND_EXECUTION_ERROR",
            message: `Error while executing command: simulated failure. Reason: ${SIMULATE_FAILURE_FILE} asks this build to fail in ${phase}`,
          },
        };
      } else if (phase === "POST_BUILD" && !failIn && deploymentId) {
        const repository = repositoryOf(aws, build);
        if (repository) {
          aws.putImage(repository.name, deploymentId, syntheticDigest(build.id));
          log(build, `Simulated push: ${repository.uri}@${syntheticDigest(build.id)} as :${deploymentId}`);
        }
      }
      log(build, `Phase complete: ${phase} State: ${outcome.status ?? "SUCCEEDED"}`);
      let entered: string;
      try {
        entered = aws.advanceBuild(build.id, outcome);
      } catch {
        // Stopped meanwhile (StopBuild ends the build itself).
        const ended = aws.builds().find((candidate) => candidate.id === build.id);
        return end({ buildId: build.id, status: ended?.buildStatus ?? "STOPPED" });
      }
      if (entered === "COMPLETED") {
        const ended = aws.builds().find((candidate) => candidate.id === build.id)!;
        log(build, `Build ${ended.buildStatus === "SUCCEEDED" ? "succeeded" : "failed"} (simulated).`);
        return end({
          buildId: build.id,
          status: ended.buildStatus,
          ...(failIn ? { failedPhase: failIn } : { digest: syntheticDigest(build.id) }),
        });
      }
      log(build, `Entering phase ${entered}`);
      state.timer = setTimeout(step, stepMs);
    };
    state.timer = setTimeout(step, stepMs);
  };

  const unsubscribe = aws.onCodeBuild({
    onStarted: (build) => {
      if (!stopped) run(build);
    },
    onStopRequested: (build) => {
      const state = running.get(build.id);
      if (!state) return;
      if (state.timer) clearTimeout(state.timer);
      log(build, "Stop requested: the simulated build stops.");
      running.delete(build.id);
      state.finish();
      options.onOutcome?.({ buildId: build.id, status: "STOPPED" });
    },
  });

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      for (const state of running.values()) {
        if (state.timer) clearTimeout(state.timer);
        state.finish();
      }
      running.clear();
    },
  };
}

/** The ECR repository a build pushes to: the name in its project's IMAGE_REPOSITORY_URI (`<registry>/<name>`). */
export function repositoryOf(aws: AwsEmulator, build: EmulatedBuild): { uri: string; name: string } | undefined {
  const override = build.environmentVariablesOverride?.find((v) => v.name === "IMAGE_REPOSITORY_URI")?.value;
  const uri = override ?? aws.projectVariable(build.projectName, "IMAGE_REPOSITORY_URI");
  return uri ? { uri, name: uri.slice(uri.indexOf("/") + 1) } : undefined;
}
