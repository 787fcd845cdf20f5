import type { InstallStart, PublicInstallation } from "../api/apiShapes";
import type { Installation } from "../deployment";
import { NotFoundError, ValidationError } from "../errors";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { Logger } from "../log";
import type { InstallationStore } from "../deployments/installationStore";
import type { GitHubUserClient } from "./githubUserClient";
import type { OnboardingStore } from "./onboardingStore";
import { readInstallationId, readJsonObject, readToken } from "./readJsonObject";

export interface InstallationRouteDependencies {
  readonly installations: Pick<InstallationStore, "listForUser" | "put" | "delete">;
  readonly onboarding: Pick<OnboardingStore, "issueState" | "consumeState">;
  /** Needed by `POST /github/installations` only. */
  readonly github?: GitHubUserClient;
  /** The App's public page, `https://github.com/apps/<slug>/installations/new`. */
  readonly installUrl?: string;
  readonly logger: Logger;
  /** Default: the system clock. */
  readonly clock?: () => Date;
}

/** What the API shows of a link. */
export function toPublicInstallation(link: Installation): PublicInstallation {
  return {
    installationId: link.installationId,
    account: link.accountLogin ?? null,
    repositorySelection: link.repositorySelection ?? null,
    suspended: link.suspendedAt !== undefined,
    deleted: link.deletedAt !== undefined,
    linkedAt: link.createdAt ?? null,
  };
}

/** GET /github/install: where to send the user, with a fresh single-use `state` bound to them. */
export function startInstall(event: ApiEvent, deps: InstallationRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    if (!deps.installUrl) throw new Error("the stack did not configure githubAppInstallUrl");
    const { state, expiresAt } = await deps.onboarding.issueState(userId);
    const url = new URL(deps.installUrl);
    url.searchParams.set("state", state);
    const body: InstallStart = { url: url.toString(), state, expiresAt: new Date(expiresAt * 1000).toISOString() };
    return jsonResponse(200, body);
  });
}

const LINK_EXAMPLE =
  '{"installationId": 123, "code": "<code from the setup URL>", "state": "<state from GET /github/install>"}';

/**
 * POST /github/installations: links the caller to the installation GitHub's setup URL named, but only after proof,
 * because that `installation_id` can be forged (GitHub: "Generating a user access token for a GitHub App" /
 * "About the setup URL"): the `state` must be one we issued to this caller and unused, the `code` is exchanged for the
 * GitHub user's token, and the installation must be among those that user can access.
 */
export function linkInstallation(event: ApiEvent, deps: InstallationRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const body = readJsonObject(event.body, event.isBase64Encoded, ["installationId", "code", "state"], LINK_EXAMPLE);
    const installationId = readInstallationId(body.installationId);
    const code = readToken(
      body.code,
      "code",
      'the code GitHub added to the setup URL (turn on "Request user authorization (OAuth) during installation")',
    );
    const state = readToken(body.state, "state", "the state GitHub echoed back, as issued by GET /github/install");
    if (!deps.github) throw new Error("the stack did not configure the App's OAuth client");
    if (!(await deps.onboarding.consumeState(state, userId))) {
      throw new ValidationError(
        "state",
        "state is unknown, expired, already used or issued to someone else. Start again from GET /github/install.",
      );
    }
    const token = await deps.github.exchangeCode(code);
    const accessible = await deps.github.listInstallations(token);
    const found = accessible.find((installation) => installation.id === installationId);
    if (!found) {
      deps.logger.warn("installation link refused", { userId, installationId, accessible: accessible.length });
      throw new NotFoundError(
        "INSTALLATION_NOT_ACCESSIBLE",
        `Installation ${installationId} is not one your GitHub account can access. Install the App from ` +
          "GET /github/install on an account or organisation you manage, then link the installation GitHub returns.",
      );
    }
    const link: Installation = {
      userId,
      installationId,
      accountLogin: found.accountLogin,
      repositorySelection: found.repositorySelection,
      ...(found.updatedAt ? { githubUpdatedAt: found.updatedAt } : {}),
      ...(found.suspendedAt ? { suspendedAt: found.suspendedAt } : {}),
      createdAt: (deps.clock ?? (() => new Date()))().toISOString(),
    };
    await deps.installations.put(link);
    deps.logger.info("installation linked", { userId, installationId, account: found.accountLogin });
    return jsonResponse(201, toPublicInstallation(link), { location: `/github/installations/${installationId}` });
  });
}

/** GET /github/installations: the caller's linked installations. */
export function listInstallations(event: ApiEvent, deps: InstallationRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const links = await deps.installations.listForUser(userId);
    return jsonResponse(200, { installations: links.map(toPublicInstallation) });
  });
}

/** DELETE /github/installations/{id}: unlinks one of the caller's installations (the App stays installed on GitHub). */
export function unlinkInstallation(event: ApiEvent, deps: InstallationRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const installationId = readInstallationId(event.pathParameters?.id, "id");
    const removed = await deps.installations.delete(userId, installationId);
    if (removed.length === 0) {
      throw new NotFoundError(
        "INSTALLATION_NOT_LINKED",
        `Installation ${installationId} is not linked to your account.`,
      );
    }
    deps.logger.info("installation unlinked", { userId, installationId });
    return { statusCode: 204, headers: { "cache-control": "no-store" } };
  });
}
