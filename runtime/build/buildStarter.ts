import {
  BatchGetBuildsCommand,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  type CodeBuildClient,
} from "@aws-sdk/client-codebuild";
import { PermanentError, TransientError } from "../errors";

export interface BuildRequest {
  readonly projectName: string;
  readonly deploymentId: string;
  /** `bucket/key` of the staged source archive. */
  readonly sourceLocation: string;
  /** Plain data for the build (ids, the SHA, detection hints); never a token or secret. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface BuildStarter {
  /** Starts the build once per deployment; CodeBuild's idempotency token makes a repeat within 5 min a no-op. */
  start(request: BuildRequest): Promise<string>;
  /** The build already started for a deployment, if any: how a resume after CodeBuild's 5-minute window avoids a second build. */
  findExisting(projectName: string, deploymentId: string): Promise<string | undefined>;
}

/** CodeBuild errors that pass: wait and retry. (An array: Pulumi serializes a module-level Set empty.) */
const TRANSIENT_CODEBUILD_ERRORS: readonly string[] = [
  "ThrottlingException",
  "AccountLimitExceededException",
  "ServiceUnavailableException",
];

export const DEPLOYMENT_ID_VARIABLE = "DEPLOYMENT_ID";

export function createBuildStarter(codebuild: CodeBuildClient): BuildStarter {
  return {
    async start({ projectName, deploymentId, sourceLocation, environment }) {
      try {
        const result = await codebuild.send(
          new StartBuildCommand({
            projectName,
            idempotencyToken: deploymentId,
            sourceTypeOverride: "S3",
            sourceLocationOverride: sourceLocation,
            environmentVariablesOverride: Object.entries({
              ...environment,
              [DEPLOYMENT_ID_VARIABLE]: deploymentId,
            }).map(([name, value]) => ({ name, value, type: "PLAINTEXT" as const })),
          }),
        );
        const id = result.build?.id;
        if (!id) throw new Error(`CodeBuild started no build for ${projectName}`);
        return id;
      } catch (error) {
        throw translate(error, projectName);
      }
    },

    async findExisting(projectName, deploymentId) {
      try {
        // Newest first (CodeBuild's default order); a deployment's build is recent, so the first page (up to 100) is
        // enough. No sortOrder: "If the project has more than 100 builds, setting the sort order will result in an
        // error" (API reference, ListBuildsForProject), and every builder's project will have more.
        const listed = await codebuild.send(new ListBuildsForProjectCommand({ projectName }));
        const ids = listed.ids ?? [];
        if (ids.length === 0) return undefined;
        const { builds = [] } = await codebuild.send(new BatchGetBuildsCommand({ ids }));
        const match = builds.find((build) =>
          build.environment?.environmentVariables?.some(
            (variable) => variable.name === DEPLOYMENT_ID_VARIABLE && variable.value === deploymentId,
          ),
        );
        return match?.id;
      } catch (error) {
        throw translate(error, projectName);
      }
    },
  };
}

function translate(error: unknown, projectName: string): unknown {
  const name = typeof error === "object" && error !== null ? (error as { name?: unknown }).name : undefined;
  if (typeof name === "string" && TRANSIENT_CODEBUILD_ERRORS.includes(name)) {
    return new TransientError(
      "CODEBUILD_THROTTLED",
      `CodeBuild is throttling builds of ${projectName}; Slipway retries.`,
    );
  }
  if (name === "ResourceNotFoundException") {
    return new PermanentError(
      "BUILD_PROJECT_MISSING",
      `The CodeBuild project ${projectName} does not exist. The platform team must run \`pulumi up\` for this stack.`,
    );
  }
  return error;
}
