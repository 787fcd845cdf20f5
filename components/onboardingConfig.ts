import type * as pulumi from "@pulumi/pulumi";
import type { ConfigReader } from "./stackConfig";
import type { SecretSource } from "./githubOnboarding";

/** The install flow's and webhooks' settings (`slipway:githubAppClientId` and friends). */
export interface OnboardingConfig {
  readonly clientId: string;
  readonly clientSecret: SecretSource;
  readonly webhookSecret: SecretSource;
  readonly installUrl: string;
}

const KEYS = [
  "githubAppClientId",
  "githubAppClientSecret",
  "githubAppClientSecretArn",
  "githubWebhookSecret",
  "githubWebhookSecretArn",
] as const;

/**
 * Reads the onboarding settings; none of them set means a stack without the install flow (links made by operators,
 * no webhooks), any of them set means all are required, each secret either as a Pulumi secret or an existing ARN.
 */
export function loadOnboardingConfig(config: ConfigReader): OnboardingConfig | undefined {
  const key = (name: string) => `[${config.name}:${name}]`;
  if (KEYS.every((name) => config.get(name) === undefined)) return undefined;
  const secret = (name: "githubAppClientSecret" | "githubWebhookSecret"): SecretSource => {
    const value: pulumi.Output<string> | undefined = config.getSecret(name);
    const existingSecretArn = config.get(`${name}Arn`);
    if ((value === undefined) === (existingSecretArn === undefined)) {
      throw new Error(
        `Set exactly one of ${key(name)} (pulumi config set --secret ${name}) or ${key(`${name}Arn`)} ` +
          "(an existing Secrets Manager secret holding it as text).",
      );
    }
    return value !== undefined ? { value } : { existingSecretArn: existingSecretArn! };
  };
  const clientId = config.get("githubAppClientId");
  if (!clientId) throw new Error(`${key("githubAppClientId")} is required with the install flow: the App's Client ID.`);
  const installUrl = config.get("githubAppInstallUrl");
  if (!installUrl?.startsWith("https://") && !installUrl?.startsWith("http://")) {
    throw new Error(
      `${key("githubAppInstallUrl")} is required with the install flow: https://github.com/apps/<slug>/installations/new.`,
    );
  }
  return {
    clientId,
    clientSecret: secret("githubAppClientSecret"),
    webhookSecret: secret("githubWebhookSecret"),
    installUrl,
  };
}
