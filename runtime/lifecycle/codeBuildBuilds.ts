import { BatchGetBuildsCommand, StopBuildCommand, type Build, type CodeBuildClient } from "@aws-sdk/client-codebuild";

/** What the lifecycle asks CodeBuild besides starting builds (runtime/build/buildStarter.ts does that). */
export interface CodeBuildBuilds {
  /** CodeBuild's records of these builds (ids not found are left out). At most 100 ids per call, as the API allows. */
  batchGet(ids: readonly string[]): Promise<Build[]>;
  /**
   * Asks CodeBuild to stop the build; its STOPPED state change event follows. A build already complete cannot be
   * stopped: that is not an error here, the caller learns the outcome from the build's own events.
   */
  stop(buildId: string): Promise<void>;
}

/** BatchGetBuilds takes at most 100 ids. */
export const BATCH_GET_BUILDS_LIMIT = 100;

export function createCodeBuildBuilds(codebuild: CodeBuildClient): CodeBuildBuilds {
  return {
    async batchGet(ids) {
      if (ids.length === 0) return [];
      if (ids.length > BATCH_GET_BUILDS_LIMIT)
        throw new Error(`batchGet takes at most ${BATCH_GET_BUILDS_LIMIT} ids; got ${ids.length}`);
      const { builds = [] } = await codebuild.send(new BatchGetBuildsCommand({ ids: [...ids] }));
      return builds;
    },
    async stop(buildId) {
      try {
        await codebuild.send(new StopBuildCommand({ id: buildId }));
      } catch (error) {
        // CodeBuild refuses to stop a build that has already finished (InvalidInputException); nothing to do.
        if ((error as { name?: unknown } | null)?.name !== "InvalidInputException") throw error;
      }
    },
  };
}
