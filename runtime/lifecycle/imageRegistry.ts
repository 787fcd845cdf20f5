import { DescribeImagesCommand, type ECRClient } from "@aws-sdk/client-ecr";
import type { DeploymentImage } from "../deployment";

/** The ECR repository builds push to: which image a deployment's build pushed. */
export interface ImageRegistry {
  /** The image tagged with the deployment id (the tag the buildspec pushes), or undefined if there is none. */
  imageOf(deploymentId: string): Promise<DeploymentImage | undefined>;
}

/**
 * Reads the pushed image's digest from ECR (DescribeImages by tag): the registry's own record, not what a build log
 * claims. `repositoryUrl` is `<registry>/<name>`, as `aws.ecr.Repository.repositoryUrl` gives it.
 */
export function createImageRegistry(ecr: ECRClient, repositoryUrl: string): ImageRegistry {
  const slash = repositoryUrl.indexOf("/");
  const repositoryName = repositoryUrl.slice(slash + 1);
  const registryId = repositoryUrl.slice(0, slash).split(".")[0];
  return {
    async imageOf(deploymentId) {
      try {
        const { imageDetails = [] } = await ecr.send(
          new DescribeImagesCommand({
            repositoryName,
            ...(registryId && /^\d{12}$/.test(registryId) ? { registryId } : {}),
            imageIds: [{ imageTag: deploymentId }],
          }),
        );
        const digest = imageDetails[0]?.imageDigest;
        return digest ? { uri: `${repositoryUrl}@${digest}`, digest } : undefined;
      } catch (error) {
        if ((error as { name?: unknown } | null)?.name === "ImageNotFoundException") return undefined;
        throw error;
      }
    },
  };
}
