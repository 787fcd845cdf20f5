import { createHash, randomUUID } from "node:crypto";
import { AwsServiceError, type JsonService } from "./awsProtocol";

export interface SecretsManagerEmulator extends JsonService {
  /** Stores a new current version of a secret, by ARN or name; returns its ARN. */
  putSecret(arnOrName: string, value: string | Uint8Array): string;
}

interface SecretVersion {
  readonly versionId: string;
  readonly value: string | Uint8Array;
  readonly createdAt: number;
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  readonly versions: SecretVersion[];
}

/** Secrets Manager's `GetSecretValue`, by full ARN, partial ARN (without the random suffix) or name. */
export function createSecretsManager(settings: {
  region: string;
  accountId: string;
  now: () => number;
}): SecretsManagerEmulator {
  const secrets: Secret[] = [];
  const prefix = `arn:aws:secretsmanager:${settings.region}:${settings.accountId}:secret:`;

  const find = (id: string): Secret | undefined =>
    secrets.find(
      (secret) =>
        secret.arn === id ||
        secret.name === id ||
        secret.arn.replace(/-[A-Za-z0-9]{6}$/, "") === id ||
        secret.arn.slice(secret.arn.indexOf(":secret:") + ":secret:".length) === id,
    );

  return {
    targetPrefix: "secretsmanager",
    iamPrefix: "secretsmanager",
    putSecret(arnOrName, value) {
      const existing = find(arnOrName);
      const secret: Secret =
        existing ??
        (arnOrName.startsWith("arn:")
          ? { arn: arnOrName, name: nameOfArn(arnOrName), versions: [] }
          : { arn: `${prefix}${arnOrName}-${suffixFor(arnOrName)}`, name: arnOrName, versions: [] });
      if (!existing) secrets.push(secret);
      secret.versions.push({ versionId: randomUUID(), value, createdAt: settings.now() });
      return secret.arn;
    },
    operations: {
      GetSecretValue: {
        access(input) {
          const id = typeof input.SecretId === "string" ? input.SecretId : "";
          return {
            action: "secretsmanager:GetSecretValue",
            resources: [find(id)?.arn ?? (id.startsWith("arn:") ? id : `${prefix}${id}`)],
          };
        },
        run(input) {
          if (typeof input.SecretId !== "string" || !input.SecretId) {
            throw new AwsServiceError("InvalidParameterException", "You must provide a SecretId.");
          }
          const secret = find(input.SecretId);
          if (!secret)
            throw new AwsServiceError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
          const current = secret.versions.length - 1;
          const stages = (index: number) =>
            index === current ? ["AWSCURRENT"] : index === current - 1 ? ["AWSPREVIOUS"] : [];
          const index =
            typeof input.VersionId === "string"
              ? secret.versions.findIndex((version) => version.versionId === input.VersionId)
              : secret.versions.findIndex((_, at) =>
                  stages(at).includes(typeof input.VersionStage === "string" ? input.VersionStage : "AWSCURRENT"),
                );
          const version = secret.versions[index];
          if (!version) {
            throw new AwsServiceError(
              "ResourceNotFoundException",
              "Secrets Manager can't find the specified secret value for the given version or staging label.",
            );
          }
          return {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: version.versionId,
            ...(typeof version.value === "string"
              ? { SecretString: version.value }
              : { SecretBinary: Buffer.from(version.value).toString("base64") }),
            VersionStages: stages(index),
            CreatedDate: version.createdAt / 1000,
          };
        },
      },
    },
  };
}

/** `arn:…:secret:name-AbCdEf` → `name` (Secrets Manager appends six random characters to every ARN). */
function nameOfArn(arn: string): string {
  const resource = arn.slice(arn.indexOf(":secret:") + ":secret:".length);
  return resource.replace(/-[A-Za-z0-9]{6}$/, "");
}

/** A stable stand-in for the random suffix, so a secret's ARN is the same on every run. */
function suffixFor(name: string): string {
  return createHash("sha256").update(name).digest("base64url").replace(/[-_]/g, "x").slice(0, 6);
}
