import { AwsServiceError, type JsonService } from "./awsProtocol";

/**
 * Amazon ECR's DescribeImages, the one call Slipway makes (to read the digest a build pushed), over repositories
 * and images the local platform puts in directly (no registry runs here: nothing speaks the Docker registry API).
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html — image ids by tag or digest;
 * an id that matches nothing is ImageNotFoundException, an unknown repository RepositoryNotFoundException; a tag
 * pushed again to an IMMUTABLE repository is ImageTagAlreadyExistsException, as PutImage answers.
 */
export interface EcrEmulator extends JsonService {
  createRepository(name: string, options?: { imageTagMutability?: "MUTABLE" | "IMMUTABLE" }): string;
  /** Records an image pushed with `tag` (what `docker push` would do), returning its digest. */
  putImage(repositoryName: string, tag: string, digest: string, sizeInBytes?: number): string;
  images(repositoryName: string): EcrImage[];
}

export interface EcrImage {
  readonly digest: string;
  readonly tags: string[];
  readonly pushedAt: number;
  readonly sizeInBytes: number;
}

interface Repository {
  readonly name: string;
  readonly mutability: "MUTABLE" | "IMMUTABLE";
  readonly images: EcrImage[];
}

export function createEcr(settings: { region: string; accountId: string; now: () => number }): EcrEmulator {
  const repositories = new Map<string, Repository>();
  const arnOf = (name: string) => `arn:aws:ecr:${settings.region}:${settings.accountId}:repository/${name}`;
  const repository = (name: unknown): Repository => {
    const found = typeof name === "string" ? repositories.get(name) : undefined;
    if (!found) {
      throw new AwsServiceError(
        "RepositoryNotFoundException",
        `The repository with name '${String(name)}' does not exist in the registry with id '${settings.accountId}'`,
      );
    }
    return found;
  };
  return {
    targetPrefix: "AmazonEC2ContainerRegistry_V20150921",
    iamPrefix: "ecr",
    createRepository(name, options = {}) {
      if (!repositories.has(name))
        repositories.set(name, { name, mutability: options.imageTagMutability ?? "MUTABLE", images: [] });
      return arnOf(name);
    },
    putImage(repositoryName, tag, digest, sizeInBytes = 0) {
      const repo = repository(repositoryName);
      const holder = repo.images.find((image) => image.tags.includes(tag));
      if (holder && holder.digest !== digest) {
        if (repo.mutability === "IMMUTABLE") {
          throw new AwsServiceError(
            "ImageTagAlreadyExistsException",
            `The image tag '${tag}' already exists in the '${repositoryName}' repository and cannot be overwritten because the repository is immutable.`,
          );
        }
        holder.tags.splice(holder.tags.indexOf(tag), 1);
      }
      const image = repo.images.find((candidate) => candidate.digest === digest);
      if (image) {
        if (!image.tags.includes(tag)) image.tags.push(tag);
      } else {
        repo.images.push({ digest, tags: [tag], pushedAt: settings.now(), sizeInBytes });
      }
      return digest;
    },
    images: (repositoryName) => repository(repositoryName).images.map((image) => ({ ...image, tags: [...image.tags] })),
    operations: {
      DescribeImages: {
        access: (input) => ({ action: "ecr:DescribeImages", resources: [arnOf(String(input.repositoryName ?? ""))] }),
        run(input) {
          if (input.registryId !== undefined && input.registryId !== settings.accountId) {
            throw new AwsServiceError(
              "RepositoryNotFoundException",
              `The repository with name '${String(input.repositoryName)}' does not exist in the registry with id '${String(input.registryId)}'`,
            );
          }
          const repo = repository(input.repositoryName);
          const ids = Array.isArray(input.imageIds)
            ? (input.imageIds as { imageTag?: string; imageDigest?: string }[])
            : undefined;
          const detail = (image: EcrImage) => ({
            registryId: settings.accountId,
            repositoryName: repo.name,
            imageDigest: image.digest,
            imageTags: [...image.tags],
            imageSizeInBytes: image.sizeInBytes,
            imagePushedAt: image.pushedAt / 1000,
            imageManifestMediaType: "application/vnd.docker.distribution.manifest.v2+json",
          });
          if (!ids) return { imageDetails: repo.images.map(detail) };
          const found = ids.map((id) =>
            repo.images.find(
              (image) =>
                (id.imageTag === undefined || image.tags.includes(id.imageTag)) &&
                (id.imageDigest === undefined || image.digest === id.imageDigest),
            ),
          );
          const missing = ids.find((_, index) => found[index] === undefined);
          if (missing) {
            throw new AwsServiceError(
              "ImageNotFoundException",
              `The image with imageId {imageDigest:'${missing.imageDigest ?? "null"}', imageTag:'${missing.imageTag ?? "null"}'} ` +
                `does not exist within the repository with name '${repo.name}' in the registry with id '${settings.accountId}'`,
            );
          }
          return { imageDetails: found.map((image) => detail(image!)) };
        },
      },
    },
  };
}
