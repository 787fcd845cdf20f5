import { randomUUID } from "node:crypto";
import { AwsServiceError, type AwsCaller, type JsonService } from "./awsProtocol";

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

export interface CodeBuildEmulator extends JsonService {
  defineProject(name: string, spec?: ProjectSpec): string;
  builds(): EmulatedBuild[];
  /** Ends a build (CodeBuild would run it): SUCCEEDED, FAILED, FAULT, TIMED_OUT or STOPPED. */
  finishBuild(id: string, status?: string): void;
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

interface BuildRecord {
  build: EmulatedBuild;
  sequence: number;
  endTime?: number;
}

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
  let sequence = 0;
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
      phases: [
        { phaseType: "SUBMITTED", phaseStatus: "SUCCEEDED", startTime: start, endTime: start, durationInSeconds: 0 },
      ],
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
        groupName: `/aws/codebuild/${build.projectName}`,
        streamName: build.id.slice(build.id.lastIndexOf(":") + 1),
        deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${settings.region}#logEvent:group=/aws/codebuild/${build.projectName}`,
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
    const record: BuildRecord = { build, sequence: ++sequence };
    builds.set(id, record);
    if (token) tokens.set(token, { parameters: fingerprint, buildId: id, at: now });
    return { build: toJson(record) };
  };

  return {
    targetPrefix: "CodeBuild_20161006",
    iamPrefix: "codebuild",
    defineProject(name, spec = {}) {
      projects.set(name, { name, arn: projectArn(name), spec, builds: 0 });
      return projectArn(name);
    },
    builds: () => [...builds.values()].sort((a, b) => a.sequence - b.sequence).map((record) => record.build),
    finishBuild(id, status = "SUCCEEDED") {
      const record = builds.get(id);
      if (!record) throw new Error(`No build ${id}; builds() lists the ones started`);
      if (!FINAL_STATUSES.has(status))
        throw new Error(`finishBuild status must be one of ${[...FINAL_STATUSES].join(", ")}`);
      record.build = { ...record.build, buildStatus: status, currentPhase: "COMPLETED" };
      record.endTime = settings.now();
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
