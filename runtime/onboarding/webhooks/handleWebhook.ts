import type { InstallationFacts, InstallationStore } from "../../deployments/installationStore";
import { describeError } from "../../errors";
import { header, jsonResponse, type ApiResult } from "../../http";
import type { Logger } from "../../log";
import type { OnboardingStore } from "../onboardingStore";
import { deployOnPush, type DeployOnPushDependencies, type PushPayload } from "./deployOnPush";

/** The request as API Gateway (payload 2.0) hands it over, without an authorizer: GitHub signs instead. */
export interface WebhookRequest {
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface WebhookDependencies {
  /** The App's webhook secret, read from Secrets Manager when first needed. */
  readonly loadSecret: () => Promise<string>;
  readonly onboarding: Pick<OnboardingStore, "claimDelivery" | "releaseDelivery">;
  readonly installations: Pick<InstallationStore, "listForInstallation" | "applyFacts" | "markDeleted">;
  readonly push: Omit<DeployOnPushDependencies, "logger">;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** The fields of an `installation` object Slipway reads. */
interface InstallationPayload {
  readonly action: string;
  readonly installation: {
    readonly id: number;
    readonly account?: { readonly login?: string } | null;
    readonly repository_selection?: "all" | "selected";
    readonly suspended_at?: string | null;
    readonly updated_at?: string | number;
  };
}

type EventHandler = (payload: never, deps: WebhookDependencies) => Promise<string>;

/** GitHub's `updated_at` as ISO text (some payloads carry epoch seconds). */
const isoTime = (value: string | number | undefined) =>
  value === undefined ? undefined : typeof value === "number" ? new Date(value * 1000).toISOString() : value;

/** What each installation action means for the links to it; deletion is final (GitHub never reuses the id). */
const INSTALLATION_FACTS: Readonly<
  Record<string, ((i: InstallationPayload["installation"]) => InstallationFacts) | "deleted">
> = {
  created: (i) => ({
    accountLogin: i.account?.login,
    repositorySelection: i.repository_selection,
    githubUpdatedAt: isoTime(i.updated_at),
  }),
  new_permissions_accepted: (i) => ({ githubUpdatedAt: isoTime(i.updated_at) }),
  suspend: (i) => ({
    suspendedAt: i.suspended_at ?? isoTime(i.updated_at) ?? new Date().toISOString(),
    githubUpdatedAt: isoTime(i.updated_at),
  }),
  unsuspend: (i) => ({ suspendedAt: null, githubUpdatedAt: isoTime(i.updated_at) }),
  added: (i) => ({ repositorySelection: i.repository_selection, githubUpdatedAt: isoTime(i.updated_at) }),
  removed: (i) => ({ repositorySelection: i.repository_selection, githubUpdatedAt: isoTime(i.updated_at) }),
  deleted: "deleted",
};

async function onInstallation(payload: InstallationPayload, deps: WebhookDependencies): Promise<string> {
  const facts = INSTALLATION_FACTS[payload.action];
  if (!facts) return `ignored installation.${payload.action}`;
  const links = await deps.installations.listForInstallation(payload.installation.id);
  const now = (deps.clock ?? (() => new Date()))().toISOString();
  let changed = 0;
  for (const link of links) {
    const applied =
      facts === "deleted"
        ? await deps.installations.markDeleted(link.userId, link.installationId, now)
        : await deps.installations.applyFacts(link.userId, link.installationId, facts(payload.installation));
    if (applied) changed += 1;
  }
  return `installation.${payload.action}: ${changed} of ${links.length} link(s) updated`;
}

async function onPush(payload: PushPayload, deps: WebhookDependencies): Promise<string> {
  const created = await deployOnPush(payload, { ...deps.push, logger: deps.logger });
  return `push: ${created.length} deployment(s)`;
}

/** Which events Slipway acts on; the App subscribes to exactly these (README, "Deploying a stack"). */
const EVENT_HANDLERS: Readonly<Record<string, EventHandler>> = {
  installation: onInstallation as EventHandler,
  installation_repositories: onInstallation as EventHandler,
  push: onPush as EventHandler,
};

const reply = (statusCode: number, code: string, message: string) =>
  jsonResponse(statusCode, statusCode < 300 ? { result: message } : { error: { code, message } });

/**
 * POST /github/webhooks. Order matters: the signature (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with the
 * App's webhook secret, checked by `@octokit/webhooks` in constant time) is verified before the body is parsed; then
 * the delivery id is claimed so a redelivery is processed once (GitHub: "Handling webhook deliveries", "Validating
 * webhook deliveries"); a failure releases the claim so GitHub's redelivery can succeed.
 */
export async function handleWebhook(request: WebhookRequest, deps: WebhookDependencies): Promise<ApiResult> {
  const signature = header(request.headers, "x-hub-signature-256");
  const event = header(request.headers, "x-github-event");
  const delivery = header(request.headers, "x-github-delivery");
  const raw =
    request.body === undefined
      ? ""
      : request.isBase64Encoded
        ? Buffer.from(request.body, "base64").toString("utf8")
        : request.body;
  if (!signature)
    return reply(401, "SIGNATURE_MISSING", "X-Hub-Signature-256 is required: set the App's webhook secret.");
  // A dynamic import: @octokit/webhooks is ES modules only. The function bundle (esbuild, CommonJS) inlines it; under
  // tsx in tests a static import would be rewritten to a require() its dependency's exports refuse.
  const { Webhooks } = await import("@octokit/webhooks");
  const webhooks = new Webhooks({ secret: await deps.loadSecret() });
  const valid = await webhooks.verify(raw, signature).catch(() => false);
  if (!valid) {
    deps.logger.warn("webhook signature refused", { delivery, event });
    return reply(401, "SIGNATURE_INVALID", "X-Hub-Signature-256 does not match the body and the App's webhook secret.");
  }
  if (!event || !delivery) return reply(400, "HEADERS_MISSING", "X-GitHub-Event and X-GitHub-Delivery are required.");
  const handler = EVENT_HANDLERS[event];
  if (!handler) return reply(202, "", `ignored ${event}`);
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return reply(400, "BODY_INVALID", "the body is not JSON; set the webhook's content type to application/json");
  }
  if (!(await deps.onboarding.claimDelivery(delivery))) {
    deps.logger.info("webhook delivery already processed", { delivery, event });
    return reply(200, "", `delivery ${delivery} already processed`);
  }
  try {
    const result = await handler(payload as never, deps);
    deps.logger.info("webhook processed", { delivery, event, result });
    return reply(200, "", result);
  } catch (error) {
    await deps.onboarding.releaseDelivery(delivery).catch(() => undefined);
    const { code, message } = describeError(error);
    deps.logger.error("webhook failed", { delivery, event, code, error: message });
    return reply(500, "INTERNAL_ERROR", "Processing failed; redeliver the webhook from the App's settings.");
  }
}
