import { randomUUID } from "node:crypto";
import { AwsServiceError, type AwsCaller, type JsonService } from "./awsProtocol";
import {
  buildPhaseChangeEvent,
  buildStateChangeEvent,
  type CodeBuildEvent,
  type EventBuild,
  type EventPhase,
} from "./codeBuildEvents";

export interface EnvironmentVariable {
  readonly name: string;
  readonly value: string;
  readonly type?: "PLAINTEXT" | "PARAMETER_STORE" | "SECRETS_MANAGER";
}

/** A project as `defineProject` takes it; everything has CodeBuild-like defaults. */
export interface ProjectSpec {
  readonly source?: { readonly type?: string; readonly location?: string; readonly buildspec?: string };
  readonly environment?: {
    readonly type?: string;
    readonly image?: string;
    readonly computeType?: string;
    readonly privilegedMode?: boolean;
    readonly environmentVariables?: readonly EnvironmentVariable[];
  };
  readonly serviceRole?: string;
  readonly timeoutInMinutes?: number;
  /** The project's CloudWatch Logs group (logsConfig.cloudwatchLogs.groupName); CodeBuild's default otherwise. */
  readonly logGroupName?: string;
}

/** A build the emulator started, with what StartBuild asked for. */
export interface EmulatedBuild {
  readonly id: string;
  readonly arn: string;
  readonly projectName: string;
  readonly buildNumber: number;
  readonly startTime: Date;
  readonly buildStatus: string;
  readonly currentPhase: string;
  readonly initiator: string;
  readonly idempotencyToken?: string;
  readonly sourceTypeOverride?: string;
  readonly sourceLocationOverride?: string;
  readonly environmentVariablesOverride?: readonly EnvironmentVariable[];
  /** The StartBuild input as received. */
  readonly request: Readonly<Record<string, unknown>>;
}

/** How a phase ends, as CodeBuild's BuildPhase reports it. */
export interface PhaseOutcome {
  readonly status?: "SUCCEEDED" | "FAILED" | "FAULT" | "TIMED_OUT" | "CLIENT_ERROR";
  /** A context CodeBuild attaches to a failed phase, e.g. COMMAND_EXECUTION_ERROR and its message. */
  readonly context?: { readonly statusCode: string; readonly message: string };
}

export interface CodeBuildListener {
  /** An EventBridge event CodeBuild emits to the default bus: state and phase changes. */
  readonly onEvent?: (event: CodeBuildEvent) => void;
  /** A build was started (StartBuild made a new build, not an idempotent replay). */
  readonly onStarted?: (build: EmulatedBuild) => void;
  /** StopBuild was called on a running build. */
  readonly onStopRequested?: (build: EmulatedBuild) => void;
}

export interface CodeBuildEmulator extends JsonService {
  defineProject(name: string, spec?: ProjectSpec): string;
  builds(): EmulatedBuild[];
  /** A project's environment variable, as the project defines it. */
  projectVariable(projectName: string, name: string): string | undefined;
  /** Where a build's log goes: the project's group, and the stream named after the build's id. */
  logsOf(id: string): { groupName: string; streamName: string };
  /**
   * Ends the build's current phase (SUCCEEDED unless told otherwise) and enters the next one, as CodeBuild's phase
   * transitions go; entering COMPLETED ends the build. Returns the phase entered. Emits the phase change event (and
   * the final state change).
   */
  advanceBuild(id: string, outcome?: PhaseOutcome): string;
  /** Ends a build now: SUCCEEDED, FAILED, FAULT, TIMED_OUT or STOPPED, walking the remaining phases. */
  finishBuild(id: string, status?: string): void;
  subscribe(listener: CodeBuildListener): () => void;
}

/** CodeBuild remembers an idempotency token for five minutes. */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60_000;

const SOURCE_TYPES = new Set([
  "CODECOMMIT",
  "CODEPIPELINE",
  "GITHUB",
  "GITHUB_ENTERPRISE",
  "GITLAB",
  "GITLAB_SELF_MANAGED",
  "BITBUCKET",
  "S3",
  "NO_SOURCE",
]);
const VARIABLE_TYPES = new Set(["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"]);
const FINAL_STATUSES = new Set(["SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);

interface Project {
  readonly name: string;
  readonly arn: string;
  readonly spec: ProjectSpec;
  builds: number;
}

interface PhaseRecord {
  readonly phaseType: string;
  phaseStatus?: string;
  readonly startTime: number;
  endTime?: number;
  contexts: { statusCode: string; message: string }[];
}

interface BuildRecord {
  build: EmulatedBuild;
  sequence: number;
  endTime?: number;
  phases: PhaseRecord[];
}

/** CodeBuild's phases in order: https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html */
export const CODEBUILD_PHASES = [
  "SUBMITTED",
  "QUEUED",
  "PROVISIONING",
  "DOWNLOAD_SOURCE",
  "INSTALL",
  "PRE_BUILD",
  "BUILD",
  "POST_BUILD",
  "UPLOAD_ARTIFACTS",
  "FINALIZING",
  "COMPLETED",
] as const;

/**
 * The phase after `phase`, per the transition diagram of the page above: a phase before BUILD that does not succeed
 * goes straight to FINALIZING (nothing of the buildspec runs after it); BUILD goes to POST_BUILD whatever its outcome,
 * and UPLOAD_ARTIFACTS "is always attempted, even if the BUILD phase fails".
 */
export function nextPhase(phase: string, succeeded: boolean): string {
  const index = CODEBUILD_PHASES.indexOf(phase as (typeof CODEBUILD_PHASES)[number]);
  if (index < 0 || phase === "COMPLETED") return "COMPLETED";
  if (!succeeded && index < CODEBUILD_PHASES.indexOf("BUILD")) return "FINALIZING";
  return CODEBUILD_PHASES[index + 1]!;
}

/** A failed phase's status → the build's final status. */
const BUILD_STATUS_OF_PHASE: Readonly<Record<string, string>> = {
  FAILED: "FAILED",
  CLIENT_ERROR: "FAILED",
  FAULT: "FAULT",
  TIMED_OUT: "TIMED_OUT",
  STOPPED: "STOPPED",
};

/** CodeBuild's StartBuild (idempotency tokens included), BatchGetBuilds and ListBuildsForProject. */
export function createCodeBuild(settings: {
  region: string;
  accountId: string;
  now: () => number;
  newId?: () => string;
}): CodeBuildEmulator {
  const newId = settings.newId ?? randomUUID;
  const projects = new Map<string, Project>();
  const builds = new Map<string, BuildRecord>();
  const tokens = new Map<string, { parameters: string; buildId: string; at: number }>();
  const listeners = new Set<CodeBuildListener>();
  const stopping = new Set<string>();
  let sequence = 0;
  const notify = (call: (listener: CodeBuildListener) => void) => {
    for (const listener of listeners) call(listener);
  };
  const projectArn = (name: string) => `arn:aws:codebuild:${settings.region}:${settings.accountId}:project/${name}`;
  const projectOf = (buildId: string) => buildId.slice(0, buildId.lastIndexOf(":"));

  const requireProject = (input: Record<string, unknown>): Project => {
    const name = input.projectName;
    if (typeof name !== "string" || !name) {
      throw new AwsServiceError(
        "InvalidInputException",
        "1 validation error detected: Value null at 'projectName' failed to satisfy constraint: Member must not be null",
      );
    }
    const project = projects.get(name);
    if (!project)
      throw new AwsServiceError("ResourceNotFoundException", `Project cannot be found: ${projectArn(name)}`);
    return project;
  };

  const logsOf = (build: EmulatedBuild) => ({
    groupName: projects.get(build.projectName)?.spec.logGroupName ?? `/aws/codebuild/${build.projectName}`,
    streamName: build.id.slice(build.id.lastIndexOf(":") + 1),
  });
  const deepLink = (build: EmulatedBuild) => {
    const { groupName, streamName } = logsOf(build);
    return `https://console.aws.amazon.com/cloudwatch/home?region=${settings.region}#logEvent:group=${groupName};stream=${streamName}`;
  };

  /** The build as the events describe it (the same facts BatchGetBuilds reports, in the events' own field names). */
  const eventBuild = (record: BuildRecord): EventBuild => {
    const json = toJson(record);
    return {
      arn: json.arn,
      projectName: json.projectName,
      buildNumber: json.buildNumber,
      buildStatus: json.buildStatus,
      currentPhase: json.currentPhase,
      buildComplete: json.buildComplete,
      startTime: record.build.startTime.getTime(),
      initiator: json.initiator,
      timeoutInMinutes: json.timeoutInMinutes,
      environment: {
        image: json.environment.image,
        privilegedMode: json.environment.privilegedMode,
        computeType: json.environment.computeType,
        type: json.environment.type,
        variables: json.environment.environmentVariables,
      },
      source: { type: json.source.type, ...(json.source.location ? { location: String(json.source.location) } : {}) },
      logs: { groupName: json.logs.groupName, streamName: json.logs.streamName, deepLink: json.logs.deepLink },
      phases: record.phases.map((phase): EventPhase => ({
        phaseType: phase.phaseType,
        ...(phase.phaseStatus ? { phaseStatus: phase.phaseStatus } : {}),
        startTime: phase.startTime,
        ...(phase.endTime !== undefined ? { endTime: phase.endTime } : {}),
        contexts: phase.contexts.map((context) => `${context.statusCode}: ${context.message}`),
      })),
    };
  };
  const emitState = (record: BuildRecord) => {
    const event = buildStateChangeEvent(eventBuild(record), {
      region: settings.region,
      accountId: settings.accountId,
      now: settings.now(),
    });
    notify((listener) => listener.onEvent?.(event));
  };
  const emitPhase = (record: BuildRecord, completed: PhaseRecord) => {
    const event = buildPhaseChangeEvent(eventBuild(record), completed.phaseType, {
      region: settings.region,
      accountId: settings.accountId,
      now: settings.now(),
    });
    notify((listener) => listener.onEvent?.(event));
  };

  /** Ends the current phase with `status` and enters the next; COMPLETED ends the build with the status it earned. */
  const advance = (
    record: BuildRecord,
    status = "SUCCEEDED",
    context?: { statusCode: string; message: string },
    enter?: string,
  ) => {
    if (FINAL_STATUSES.has(record.build.buildStatus)) throw new Error(`build ${record.build.id} has already ended`);
    const now = settings.now();
    const current = record.phases[record.phases.length - 1]!;
    current.phaseStatus = status;
    current.endTime = now;
    if (context) current.contexts.push(context);
    const entered = enter ?? nextPhase(current.phaseType, status === "SUCCEEDED");
    record.phases.push({ phaseType: entered, startTime: now, contexts: [] });
    record.build = { ...record.build, currentPhase: entered };
    if (entered === "COMPLETED") {
      const failed = record.phases.find((phase) => phase.phaseStatus && phase.phaseStatus !== "SUCCEEDED");
      record.build = {
        ...record.build,
        buildStatus: failed ? BUILD_STATUS_OF_PHASE[failed.phaseStatus!]! : "SUCCEEDED",
      };
      record.endTime = now;
    }
    emitPhase(record, current);
    if (entered === "COMPLETED") emitState(record);
    return entered;
  };

  const recordOf = (id: string) => {
    const record = builds.get(id);
    if (!record) throw new Error(`No build ${id}; builds() lists the ones started`);
    return record;
  };

  const toJson = (record: BuildRecord) => {
    const { build } = record;
    const project = projects.get(build.projectName)!;
    const start = build.startTime.getTime() / 1000;
    const overrides = build.environmentVariablesOverride ?? [];
    const variables = [
      ...(project.spec.environment?.environmentVariables ?? []).filter(
        (variable) => !overrides.some((o) => o.name === variable.name),
      ),
      ...overrides,
    ].map((variable) => ({ name: variable.name, value: variable.value, type: variable.type ?? "PLAINTEXT" }));
    const request = build.request;
    return {
      id: build.id,
      arn: build.arn,
      buildNumber: build.buildNumber,
      startTime: start,
      ...(record.endTime !== undefined ? { endTime: record.endTime / 1000 } : {}),
      currentPhase: build.currentPhase,
      buildStatus: build.buildStatus,
      buildComplete: FINAL_STATUSES.has(build.buildStatus),
      projectName: build.projectName,
      ...(typeof request.sourceVersion === "string" ? { sourceVersion: request.sourceVersion } : {}),
      phases: record.phases.map((phase) => ({
        phaseType: phase.phaseType,
        ...(phase.phaseStatus ? { phaseStatus: phase.phaseStatus } : {}),
        startTime: phase.startTime / 1000,
        ...(phase.endTime !== undefined
          ? { endTime: phase.endTime / 1000, durationInSeconds: Math.round((phase.endTime - phase.startTime) / 1000) }
          : {}),
        ...(phase.contexts.length ? { contexts: phase.contexts.map((context) => ({ ...context })) } : {}),
      })),
      source: {
        type: build.sourceTypeOverride ?? project.spec.source?.type ?? "NO_SOURCE",
        ...((build.sourceLocationOverride ?? project.spec.source?.location)
          ? { location: build.sourceLocationOverride ?? project.spec.source?.location }
          : {}),
        ...((request.buildspecOverride ?? project.spec.source?.buildspec)
          ? { buildspec: request.buildspecOverride ?? project.spec.source?.buildspec }
          : {}),
      },
      environment: {
        type: project.spec.environment?.type ?? "LINUX_CONTAINER",
        image:
          (request.imageOverride as string | undefined) ??
          project.spec.environment?.image ??
          "aws/codebuild/standard:7.0",
        computeType:
          (request.computeTypeOverride as string | undefined) ??
          project.spec.environment?.computeType ??
          "BUILD_GENERAL1_SMALL",
        environmentVariables: variables,
        privilegedMode: project.spec.environment?.privilegedMode ?? false,
        imagePullCredentialsType: "CODEBUILD",
      },
      serviceRole: project.spec.serviceRole ?? `arn:aws:iam::${settings.accountId}:role/${build.projectName}-codebuild`,
      logs: {
        groupName: logsOf(build).groupName,
        streamName: logsOf(build).streamName,
        deepLink: deepLink(build),
        cloudWatchLogs: { status: "ENABLED", groupName: logsOf(build).groupName },
      },
      timeoutInMinutes: project.spec.timeoutInMinutes ?? 60,
      queuedTimeoutInMinutes: 480,
      initiator: build.initiator,
      encryptionKey: `arn:aws:kms:${settings.region}:${settings.accountId}:alias/aws/s3`,
    };
  };

  const startBuild = (input: Record<string, unknown>, caller: AwsCaller) => {
    const project = requireProject(input);
    const now = settings.now();
    const token =
      typeof input.idempotencyToken === "string" && input.idempotencyToken ? input.idempotencyToken : undefined;
    const parameters = Object.fromEntries(Object.entries(input).filter(([name]) => name !== "idempotencyToken"));
    const fingerprint = canonicalJson(parameters);
    if (token) {
      const earlier = tokens.get(token);
      if (earlier && now - earlier.at < IDEMPOTENCY_WINDOW_MS) {
        if (earlier.parameters !== fingerprint) {
          throw new AwsServiceError(
            "InvalidInputException",
            `Idempotency token ${token} was used within the last 5 minutes with different request parameters (parameter mismatch).`,
          );
        }
        return { build: toJson(builds.get(earlier.buildId)!) };
      }
    }
    const sourceType = input.sourceTypeOverride;
    if (sourceType !== undefined && (typeof sourceType !== "string" || !SOURCE_TYPES.has(sourceType))) {
      throw new AwsServiceError("InvalidInputException", `Invalid source type: ${String(sourceType)}`);
    }
    if (
      sourceType === "S3" &&
      typeof input.sourceLocationOverride === "string" &&
      !/^[^/]+\/.+/.test(input.sourceLocationOverride)
    ) {
      throw new AwsServiceError(
        "InvalidInputException",
        "Invalid S3 source location: expected <bucket-name>/<object-key>",
      );
    }
    const variables = input.environmentVariablesOverride;
    if (
      variables !== undefined &&
      (!Array.isArray(variables) ||
        variables.some(
          (variable: { name?: unknown; value?: unknown; type?: unknown }) =>
            typeof variable?.name !== "string" ||
            !variable.name ||
            typeof variable.value !== "string" ||
            (variable.type !== undefined && !VARIABLE_TYPES.has(String(variable.type))),
        ))
    ) {
      throw new AwsServiceError(
        "InvalidInputException",
        "Invalid environment variables: each needs a name, a value and a valid type",
      );
    }
    project.builds += 1;
    const id = `${project.name}:${newId()}`;
    const build: EmulatedBuild = {
      id,
      arn: `arn:aws:codebuild:${settings.region}:${settings.accountId}:build/${id}`,
      projectName: project.name,
      buildNumber: project.builds,
      startTime: new Date(now),
      buildStatus: "IN_PROGRESS",
      currentPhase: "QUEUED",
      initiator: caller.accessKeyId,
      ...(token ? { idempotencyToken: token } : {}),
      ...(typeof sourceType === "string" ? { sourceTypeOverride: sourceType } : {}),
      ...(typeof input.sourceLocationOverride === "string"
        ? { sourceLocationOverride: input.sourceLocationOverride }
        : {}),
      ...(Array.isArray(variables) ? { environmentVariablesOverride: variables as EnvironmentVariable[] } : {}),
      request: input,
    };
    const record: BuildRecord = {
      build,
      sequence: ++sequence,
      phases: [
        { phaseType: "SUBMITTED", phaseStatus: "SUCCEEDED", startTime: now, endTime: now, contexts: [] },
        { phaseType: "QUEUED", startTime: now, contexts: [] },
      ],
    };
    builds.set(id, record);
    if (token) tokens.set(token, { parameters: fingerprint, buildId: id, at: now });
    // CodeBuild's events come after its answer, in this order: the build started, then SUBMITTED completed.
    const answer = { build: toJson(record) };
    setImmediate(() => {
      emitState({
        ...record,
        build: { ...record.build, currentPhase: "SUBMITTED" },
        phases: record.phases.slice(0, 1),
      });
      emitPhase({ ...record, phases: record.phases.slice(0, 2) }, record.phases[0]!);
      notify((listener) => listener.onStarted?.(record.build));
    });
    return answer;
  };

  return {
    targetPrefix: "CodeBuild_20161006",
    iamPrefix: "codebuild",
    defineProject(name, spec = {}) {
      projects.set(name, { name, arn: projectArn(name), spec, builds: 0 });
      return projectArn(name);
    },
    builds: () => [...builds.values()].sort((a, b) => a.sequence - b.sequence).map((record) => record.build),
    logsOf: (id) => logsOf(recordOf(id).build),
    projectVariable: (projectName, name) =>
      projects.get(projectName)?.spec.environment?.environmentVariables?.find((v) => v.name === name)?.value,
    advanceBuild(id, outcome = {}) {
      return advance(recordOf(id), outcome.status ?? "SUCCEEDED", outcome.context);
    },
    finishBuild(id, status = "SUCCEEDED") {
      const record = recordOf(id);
      if (!FINAL_STATUSES.has(status))
        throw new Error(`finishBuild status must be one of ${[...FINAL_STATUSES].join(", ")}`);
      const phaseStatus = status === "SUCCEEDED" ? "SUCCEEDED" : status === "FAILED" ? "FAILED" : status;
      let entered = advance(record, phaseStatus);
      while (entered !== "COMPLETED") entered = advance(record);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    operations: {
      StartBuild: {
        access: (input) => ({
          action: "codebuild:StartBuild",
          resources: [projectArn(String(input.projectName ?? ""))],
        }),
        run: startBuild,
      },
      BatchGetBuilds: {
        access: (input) => ({
          action: "codebuild:BatchGetBuilds",
          resources: [
            ...new Set((Array.isArray(input.ids) ? input.ids : []).map((id) => projectArn(projectOf(String(id))))),
          ],
        }),
        run(input) {
          const ids = input.ids;
          if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100) {
            throw new AwsServiceError("InvalidInputException", "ids must hold between 1 and 100 build ids");
          }
          const found = ids.map((id) => builds.get(String(id)));
          return {
            builds: found.filter((record): record is BuildRecord => record !== undefined).map(toJson),
            buildsNotFound: ids.filter((_, index) => found[index] === undefined),
          };
        },
      },
      StopBuild: {
        access: (input) => ({
          action: "codebuild:StopBuild",
          resources: [projectArn(projectOf(String(input.id ?? "")))],
        }),
        run(input) {
          const record = typeof input.id === "string" ? builds.get(input.id) : undefined;
          if (!record)
            throw new AwsServiceError("ResourceNotFoundException", `Build ${String(input.id)} does not exist`);
          // A build that has ended stays as it ended. A running one answers IN_PROGRESS and stops shortly after:
          // its current phase ends STOPPED, then FINALIZING and COMPLETED, with the events of each.
          if (!FINAL_STATUSES.has(record.build.buildStatus) && !stopping.has(record.build.id)) {
            stopping.add(record.build.id);
            notify((listener) => listener.onStopRequested?.(record.build));
            setImmediate(() => {
              stopping.delete(record.build.id);
              if (FINAL_STATUSES.has(record.build.buildStatus)) return;
              // Nothing more of the buildspec runs: the stopped phase goes straight to FINALIZING.
              const current = record.phases[record.phases.length - 1]!.phaseType;
              let entered = advance(
                record,
                "STOPPED",
                undefined,
                current === "FINALIZING" ? "COMPLETED" : "FINALIZING",
              );
              while (entered !== "COMPLETED") entered = advance(record);
            });
          }
          return { build: toJson(record) };
        },
      },
      ListBuildsForProject: {
        access: (input) => ({
          action: "codebuild:ListBuildsForProject",
          resources: [projectArn(String(input.projectName ?? ""))],
        }),
        run(input) {
          const project = requireProject(input);
          refuseSortOrder(input, project);
          const newestFirst = [...builds.values()]
            .filter((record) => record.build.projectName === project.name)
            .sort((a, b) => b.build.startTime.getTime() - a.build.startTime.getTime() || b.sequence - a.sequence)
            .map((record) => record.build.id);
          const ordered = input.sortOrder === "ASCENDING" ? newestFirst.reverse() : newestFirst;
          const start =
            typeof input.nextToken === "string" ? Number(Buffer.from(input.nextToken, "base64").toString("utf8")) : 0;
          if (!Number.isInteger(start) || start < 0)
            throw new AwsServiceError("InvalidInputException", "Invalid nextToken");
          const page = ordered.slice(start, start + 100);
          const more = start + 100 < ordered.length;
          return { ids: page, ...(more ? { nextToken: Buffer.from(String(start + 100)).toString("base64") } : {}) };
        },
      },
    },
  };
}

/**
 * CodeBuild's ListBuildsForProject: "If the project has more than 100 builds, setting the sort order will result in
 * an error" (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ListBuildsForProject.html). AWS answers
 * InvalidInputException "Sort order can't be specified when passing a nextToken" (seen in aws/aws-cli#5863, whose
 * paginator sent sortOrder with the next page's token); the emulator refuses both cases with that answer.
 */
export const SORT_ORDER_REFUSED = "Sort order can't be specified when passing a nextToken";

function refuseSortOrder(input: Record<string, unknown>, project: Project): void {
  if (input.sortOrder === undefined) return;
  if (typeof input.nextToken === "string" || project.builds > 100) {
    throw new AwsServiceError("InvalidInputException", SORT_ORDER_REFUSED);
  }
}

/** JSON with sorted keys: two requests with the same parameters in another order compare equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
