import { createHash, randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { AwsServiceError, type JsonOperation, type JsonService } from "./awsProtocol";

/**
 * The two registry logins a build makes (`aws ecr get-login-password`, `aws ecr-public get-login-password`):
 * ECR's and ECR Public's GetAuthorizationToken, as the API references describe them.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
 * https://docs.aws.amazon.com/AmazonECRPublic/latest/APIReference/API_GetAuthorizationToken.html
 * No registry runs locally (no Docker engine), so the token is only a well-formed one: `AWS:<password>`, base64.
 *
 * Also the ECR API operations a `docker push` amounts to — the registry's push requests are authorized as these
 * actions (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html) — each checked on the
 * repository's ARN. They keep no layers: they answer in ECR's shapes, and PutImage records the pushed tag.
 *
 * And DescribeImages (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html), which
 * Slipway calls to read the digest a build pushed: image ids by tag or digest; an id that matches nothing is
 * ImageNotFoundException, an unknown repository RepositoryNotFoundException. Pushed tags are kept in the local
 * registry's folder when there is one (`<registryDir>/<repository>/<tag>` holding the digest, where the sealed
 * `docker push` of `--run-builds` writes them), so a tag pushed by a real local build is found here too; a tag pushed
 * again to an IMMUTABLE repository is ImageTagAlreadyExistsException, as ECR answers.
 */
export interface EcrEmulator extends JsonService {
  createRepository(name: string, options?: { imageTagMutability?: "MUTABLE" | "IMMUTABLE" }): string;
  /** Records an image pushed with `tag` (what `docker push` does), returning its digest. */
  putImage(repositoryName: string, tag: string, digest: string): string;
  images(repositoryName: string): EcrImage[];
}

export interface EcrImage {
  readonly digest: string;
  readonly tags: string[];
  readonly pushedAt: number;
}

/** Where pushed tags are kept: a folder (the local registry) or memory. */
interface TagStore {
  get(repository: string, tag: string): { digest: string; pushedAt: number } | undefined;
  put(repository: string, tag: string, digest: string): void;
  list(repository: string): { tag: string; digest: string; pushedAt: number }[];
}

function folderTags(registryDir: string): TagStore {
  const file = (repository: string, tag: string) => path.join(registryDir, repository, tag);
  return {
    get(repository, tag) {
      const stat = fs.statSync(file(repository, tag), { throwIfNoEntry: false });
      if (!stat?.isFile()) return undefined;
      return { digest: fs.readFileSync(file(repository, tag), "utf8").trim(), pushedAt: stat.mtimeMs };
    },
    put(repository, tag, digest) {
      fs.mkdirSync(path.join(registryDir, repository), { recursive: true });
      fs.writeFileSync(file(repository, tag), `${digest}\n`);
    },
    list(repository) {
      const dir = path.join(registryDir, repository);
      if (!fs.existsSync(dir)) return [];
      return fs
        .readdirSync(dir)
        .map((tag) => ({ tag, ...this.get(repository, tag)! }))
        .filter((entry) => entry.digest);
    },
  };
}

function memoryTags(now: () => number): TagStore {
  const tags = new Map<string, { digest: string; pushedAt: number }>();
  return {
    get: (repository, tag) => tags.get(`${repository}\0${tag}`),
    put: (repository, tag, digest) => void tags.set(`${repository}\0${tag}`, { digest, pushedAt: now() }),
    list: (repository) =>
      [...tags.entries()]
        .filter(([key]) => key.startsWith(`${repository}\0`))
        .map(([key, value]) => ({ tag: key.slice(repository.length + 1), ...value })),
  };
}

/** Both tokens last 12 hours. */
const TOKEN_LIFETIME_SECONDS = 12 * 3600;

const newToken = () => Buffer.from(`AWS:${randomBytes(32).toString("base64")}`).toString("base64");

export function createEcr(settings: {
  region: string;
  accountId: string;
  now: () => number;
  /** The local registry's folder, shared with the sealed `docker push`; default: tags kept in memory. */
  registryDir?: string;
}): EcrEmulator {
  const tags = settings.registryDir ? folderTags(settings.registryDir) : memoryTags(settings.now);
  const repositories = new Map<string, "MUTABLE" | "IMMUTABLE">();
  const arnOf = (name: string) => `arn:aws:ecr:${settings.region}:${settings.accountId}:repository/${name}`;
  const knownRepository = (name: unknown): string => {
    if (typeof name !== "string" || !repositories.has(name)) {
      throw new AwsServiceError(
        "RepositoryNotFoundException",
        `The repository with name '${String(name)}' does not exist in the registry with id '${settings.accountId}'`,
      );
    }
    return name;
  };
  const push = (repository: string, tag: string, digest: string) => {
    const existing = tags.get(repository, tag);
    if (existing && existing.digest !== digest && repositories.get(repository) === "IMMUTABLE") {
      throw new AwsServiceError(
        "ImageTagAlreadyExistsException",
        `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`,
      );
    }
    tags.put(repository, tag, digest);
    return digest;
  };
  const imagesOf = (repository: string): EcrImage[] => {
    const byDigest = new Map<string, EcrImage>();
    for (const entry of tags.list(repository)) {
      const image = byDigest.get(entry.digest) ?? { digest: entry.digest, tags: [], pushedAt: entry.pushedAt };
      image.tags.push(entry.tag);
      byDigest.set(entry.digest, image);
    }
    return [...byDigest.values()];
  };
  const registryOf = (input: Record<string, unknown>) =>
    typeof input.registryId === "string" && input.registryId ? input.registryId : settings.accountId;
  const repositoryOf = (input: Record<string, unknown>) => {
    const name = input.repositoryName;
    if (typeof name !== "string" || !name) {
      throw new AwsServiceError(
        "InvalidParameterException",
        "1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null",
      );
    }
    return name;
  };
  /** One push operation: checked on the repository's ARN, answering `answer(input)` plus the repository's ids. */
  const onRepository = (action: string, answer: (input: Record<string, unknown>) => object): JsonOperation => ({
    access: (input) => ({
      action: `ecr:${action}`,
      resources: [
        `arn:aws:ecr:${settings.region}:${registryOf(input)}:repository/${String(input.repositoryName ?? "")}`,
      ],
    }),
    run: (input) => ({ registryId: registryOf(input), repositoryName: repositoryOf(input), ...answer(input) }),
  });
  const digestOf = (value: unknown) => `sha256:${createHash("sha256").update(String(value)).digest("hex")}`;
  const digests = (input: Record<string, unknown>) =>
    Array.isArray(input.layerDigests) ? input.layerDigests.map(String) : [];
  return {
    targetPrefix: "AmazonEC2ContainerRegistry_V20150921",
    iamPrefix: "ecr",
    createRepository(name, options = {}) {
      if (!repositories.has(name)) repositories.set(name, options.imageTagMutability ?? "MUTABLE");
      return arnOf(name);
    },
    putImage: (repositoryName, tag, digest) => push(knownRepository(repositoryName), tag, digest),
    images: (repositoryName) => imagesOf(knownRepository(repositoryName)),
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
          const repository = knownRepository(input.repositoryName);
          const images = imagesOf(repository);
          const detail = (image: EcrImage) => ({
            registryId: settings.accountId,
            repositoryName: repository,
            imageDigest: image.digest,
            imageTags: [...image.tags],
            imagePushedAt: image.pushedAt / 1000,
            imageManifestMediaType: "application/vnd.docker.distribution.manifest.v2+json",
          });
          const ids = Array.isArray(input.imageIds)
            ? (input.imageIds as { imageTag?: string; imageDigest?: string }[])
            : undefined;
          if (!ids) return { imageDetails: images.map(detail) };
          const found = ids.map((id) =>
            images.find(
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
                `does not exist within the repository with name '${repository}' in the registry with id '${settings.accountId}'`,
            );
          }
          return { imageDetails: found.map((image) => detail(image!)) };
        },
      },
      BatchCheckLayerAvailability: onRepository("BatchCheckLayerAvailability", (input) => ({
        layers: [],
        failures: digests(input).map((layerDigest) => ({
          layerDigest,
          failureCode: "MissingLayerDigest",
          failureReason: "Layer does not exist",
        })),
      })),
      InitiateLayerUpload: onRepository("InitiateLayerUpload", () => ({
        uploadId: randomUUID(),
        partSize: 10_485_760,
      })),
      UploadLayerPart: onRepository("UploadLayerPart", (input) => ({
        uploadId: String(input.uploadId ?? ""),
        lastByteReceived: Number(input.partLastByte ?? 0),
      })),
      CompleteLayerUpload: onRepository("CompleteLayerUpload", (input) => ({
        uploadId: String(input.uploadId ?? ""),
        layerDigest: digests(input)[0] ?? digestOf(input.uploadId),
      })),
      PutImage: onRepository("PutImage", (input) => {
        const digest = digestOf(input.imageManifest);
        const repository = repositoryOf(input);
        // A repository the stack declared keeps the tag (with its mutability); others only answer, as before.
        if (repositories.has(repository) && typeof input.imageTag === "string" && input.imageTag) {
          push(repository, input.imageTag, digest);
        }
        return {
          image: {
            registryId: registryOf(input),
            repositoryName: repository,
            imageId: { imageDigest: digest, imageTag: String(input.imageTag ?? "") },
            imageManifest: String(input.imageManifest ?? ""),
          },
        };
      }),
      BatchGetImage: onRepository("BatchGetImage", (input) => ({
        images: [],
        failures: (Array.isArray(input.imageIds) ? input.imageIds : []).map((imageId: unknown) => ({
          imageId,
          failureCode: "ImageNotFound",
          failureReason: "Requested image not found",
        })),
      })),
      GetAuthorizationToken: {
        // No resource-level permissions: IAM checks "*".
        access: () => ({ action: "ecr:GetAuthorizationToken", resources: ["*"] }),
        run: () => ({
          authorizationData: [
            {
              authorizationToken: newToken(),
              expiresAt: Math.floor(settings.now() / 1000) + TOKEN_LIFETIME_SECONDS,
              proxyEndpoint: `https://${settings.accountId}.dkr.ecr.${settings.region}.amazonaws.com`,
            },
          ],
        }),
      },
    },
  };
}

export function createEcrPublic(settings: { now: () => number }): JsonService {
  return {
    targetPrefix: "SpencerFrontendService",
    iamPrefix: "ecr-public",
    operations: {
      GetAuthorizationToken: {
        // ECR Public also needs sts:GetServiceBearerToken, both on "*":
        // https://docs.aws.amazon.com/AmazonECR/latest/public/public-registry-auth.html
        access: () => [
          { action: "ecr-public:GetAuthorizationToken", resources: ["*"] },
          { action: "sts:GetServiceBearerToken", resources: ["*"] },
        ],
        run: () => ({
          authorizationData: {
            authorizationToken: newToken(),
            expiresAt: Math.floor(settings.now() / 1000) + TOKEN_LIFETIME_SECONDS,
          },
        }),
      },
    },
  };
}
