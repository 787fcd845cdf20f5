import { randomBytes } from "node:crypto";
import type { JsonService } from "./awsProtocol";

/**
 * The two registry logins a build makes (`aws ecr get-login-password`, `aws ecr-public get-login-password`):
 * ECR's and ECR Public's GetAuthorizationToken, as the API references describe them.
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
 * https://docs.aws.amazon.com/AmazonECRPublic/latest/APIReference/API_GetAuthorizationToken.html
 * No registry runs locally (no Docker engine), so the token is only a well-formed one: `AWS:<password>`, base64.
 */

/** Both tokens last 12 hours. */
const TOKEN_LIFETIME_SECONDS = 12 * 3600;

const newToken = () => Buffer.from(`AWS:${randomBytes(32).toString("base64")}`).toString("base64");

export function createEcr(settings: { region: string; accountId: string; now: () => number }): JsonService {
  return {
    targetPrefix: "AmazonEC2ContainerRegistry_V20150921",
    iamPrefix: "ecr",
    operations: {
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
