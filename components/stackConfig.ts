import type * as pulumi from "@pulumi/pulumi";

/** The stack's settings, read from `Pulumi.<stack>.yaml` (namespace `slipway`). Every key is documented in the README. */
export interface StackConfig {
  readonly githubAppId: string;
  /** Exactly one of these two: the key itself (a Pulumi secret, stored in Secrets Manager by the stack) or an existing secret. */
  readonly githubAppPrivateKey?: pulumi.Output<string>;
  readonly githubAppPrivateKeySecretArn?: string;
  /** The customer-managed KMS key that existing secret is encrypted with, if any (the inspector gets kms:Decrypt). */
  readonly githubAppPrivateKeyKmsKeyArn?: string;
  readonly githubApiUrl: string;
  readonly githubAppInstallUrl?: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string[];
  readonly corsAllowOrigins: string[];
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  readonly logRetentionDays: number;
  readonly deletionProtection: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly buildComputeType: string;
  readonly buildTimeoutMinutes: number;
  readonly sourceRetentionDays: number;
  readonly forceDestroy: boolean;
}

/** The subset of `pulumi.Config` this reads, so tests can pass a plain object. */
export type ConfigReader = Pick<
  pulumi.Config,
  "get" | "require" | "getNumber" | "getBoolean" | "getObject" | "getSecret" | "name"
>;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * A secret's complete ARN: Secrets Manager appends a hyphen and six random characters to the name
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources).
 */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
/** A KMS key (not alias) ARN. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

export function loadStackConfig(config: ConfigReader): StackConfig {
  const key = (name: string) => `[${config.name}:${name}]`;
  const privateKey = config.getSecret("githubAppPrivateKey");
  const privateKeySecretArn = config.get("githubAppPrivateKeySecretArn");
  if ((privateKey === undefined) === (privateKeySecretArn === undefined)) {
    throw new Error(
      `Set exactly one of ${key("githubAppPrivateKey")} (pulumi config set --secret githubAppPrivateKey < key.pem) ` +
        `or ${key("githubAppPrivateKeySecretArn")} (an existing Secrets Manager secret holding the PEM key).`,
    );
  }
  if (privateKeySecretArn !== undefined && !SECRET_ARN.test(privateKeySecretArn)) {
    throw new Error(
      `${key("githubAppPrivateKeySecretArn")} must be the secret's full ARN, ending in the 6-character suffix Secrets ` +
        `Manager adds to its name (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf), not ` +
        `"${privateKeySecretArn}": IAM matches the inspector's permission against the full ARN. ` +
        `Find it with: aws secretsmanager describe-secret --secret-id <name> --query ARN`,
    );
  }
  const privateKeyKmsKeyArn = config.get("githubAppPrivateKeyKmsKeyArn");
  if (privateKeyKmsKeyArn !== undefined) {
    if (privateKeySecretArn === undefined) {
      throw new Error(
        `${key("githubAppPrivateKeyKmsKeyArn")} applies only with ${key("githubAppPrivateKeySecretArn")}: a secret ` +
          `the stack creates uses Secrets Manager's own key. Remove it, or give the existing secret's ARN.`,
      );
    }
    if (!KMS_KEY_ARN.test(privateKeyKmsKeyArn)) {
      throw new Error(
        `${key("githubAppPrivateKeyKmsKeyArn")} must be the KMS key's ARN ` +
          `(arn:aws:kms:<region>:<account>:key/<key id>), not "${privateKeyKmsKeyArn}": IAM policies cannot grant ` +
          `access to a key through an alias. Find it with: aws kms describe-key --key-id <alias> --query KeyMetadata.Arn`,
      );
    }
  }
  const githubAppId = config.require("githubAppId");
  if (!/^\d+$/.test(githubAppId))
    throw new Error(`${key("githubAppId")} must be the GitHub App's numeric id, not "${githubAppId}".`);
  const jwtIssuer = config.require("jwtIssuer");
  if (!jwtIssuer.startsWith("https://"))
    throw new Error(`${key("jwtIssuer")} must be an https:// URL (API Gateway requires it).`);
  const jwtAudience = stringList(config, "jwtAudience") ?? [];
  if (jwtAudience.length === 0)
    throw new Error(`${key("jwtAudience")} must list at least one audience (your front end's client id).`);
  const logRetentionDays = config.getNumber("logRetentionDays") ?? 30;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new Error(`${key("logRetentionDays")} must be one of ${LOG_RETENTION_DAYS.join(", ")}.`);
  }
  return {
    githubAppId,
    ...(privateKey !== undefined ? { githubAppPrivateKey: privateKey } : {}),
    ...(privateKeySecretArn !== undefined ? { githubAppPrivateKeySecretArn: privateKeySecretArn } : {}),
    ...optional("githubAppPrivateKeyKmsKeyArn", privateKeyKmsKeyArn),
    githubApiUrl: config.get("githubApiUrl") ?? "https://api.github.com",
    ...optional("githubAppInstallUrl", config.get("githubAppInstallUrl")),
    jwtIssuer,
    jwtAudience,
    corsAllowOrigins: stringList(config, "corsAllowOrigins") ?? [],
    throttlingRateLimit: positive(config, "throttlingRateLimit", 50),
    throttlingBurstLimit: positive(config, "throttlingBurstLimit", 100),
    logRetentionDays,
    deletionProtection: config.getBoolean("deletionProtection") ?? true,
    pointInTimeRecovery: config.getBoolean("pointInTimeRecovery") ?? true,
    buildComputeType: config.get("buildComputeType") ?? "BUILD_GENERAL1_MEDIUM",
    buildTimeoutMinutes: positive(config, "buildTimeoutMinutes", 30),
    sourceRetentionDays: positive(config, "sourceRetentionDays", 7),
    forceDestroy: config.getBoolean("forceDestroy") ?? false,
  };
}

function optional<K extends string>(name: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, string>);
}

function stringList(config: ConfigReader, name: string): string[] | undefined {
  const value = config.getObject<unknown>(name);
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new Error(
      `[${config.name}:${name}] must be a list of strings, e.g. pulumi config set --path '${name}[0]' value.`,
    );
  }
  return value;
}

function positive(config: ConfigReader, name: string, fallback: number): number {
  const value = config.getNumber(name) ?? fallback;
  if (!(value > 0)) throw new Error(`[${config.name}:${name}] must be a positive number.`);
  return value;
}
