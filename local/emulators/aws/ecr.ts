import { createHash, randomBytes, randomUUID } from "node:crypto";
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
 * repository's ARN. They keep no layers: they only answer in ECR's shapes, for the build stand-in's push.
 */

/** Both tokens last 12 hours. */
const TOKEN_LIFETIME_SECONDS = 12 * 3600;

const newToken = () => Buffer.from(`AWS:${randomBytes(32).toString("base64")}`).toString("base64");

export function createEcr(settings: { region: string; accountId: string; now: () => number }): JsonService {
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
    operations: {
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
      PutImage: onRepository("PutImage", (input) => ({
        image: {
          registryId: registryOf(input),
          repositoryName: repositoryOf(input),
          imageId: { imageDigest: digestOf(input.imageManifest), imageTag: String(input.imageTag ?? "") },
          imageManifest: String(input.imageManifest ?? ""),
        },
      })),
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
