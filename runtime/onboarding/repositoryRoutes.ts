import { parseLimit } from "../api/listDeployments";
import type { RepositoryPage, RepositorySummary } from "../api/apiShapes";
import type { Installation } from "../deployment";
import type { InstallationStore } from "../deployments/installationStore";
import { isPermanentError } from "../errors";
import type { InstallationRepositories } from "../github/installationRepositories";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { Logger } from "../log";
import { decodeRepositoryCursor, encodeRepositoryCursor, type RepositoryCursor } from "./repositoryCursor";

export const DEFAULT_REPOSITORY_PAGE_SIZE = 30;
/** GitHub's largest page of `GET /installation/repositories`. */
const GITHUB_PAGE_SIZE = 100;

export interface RepositoryRouteDependencies {
  readonly installations: Pick<InstallationStore, "listForUser">;
  readonly github: InstallationRepositories;
  readonly logger: Logger;
}

/** Installations GitHub no longer serves (uninstalled, suspended): skipped, the rest still listed. */
const SKIPPED_CODES: readonly string[] = ["GITHUB_APP_NOT_INSTALLED", "GITHUB_FORBIDDEN"];

/**
 * GET /repositories?limit=&cursor=: the repositories the caller's live linked installations can read, installation
 * by installation (ascending id) in GitHub's order. The cursor is the installation and how many of its repositories
 * were shown, so a page is at most `limit` long and may be shorter where an installation ends.
 */
export function listRepositories(event: ApiEvent, deps: RepositoryRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const limit = parseLimit(event.queryStringParameters?.limit, DEFAULT_REPOSITORY_PAGE_SIZE);
    const raw = event.queryStringParameters?.cursor;
    const cursor = raw === undefined ? undefined : decodeRepositoryCursor(raw);
    const links = (await deps.installations.listForUser(userId))
      .filter((link) => !link.deletedAt && !link.suspendedAt)
      .filter((link) => cursor === undefined || link.installationId >= cursor.installationId)
      .sort((a, b) => a.installationId - b.installationId);
    const items: RepositorySummary[] = [];
    let nextCursor: RepositoryCursor | undefined;
    for (const [index, link] of links.entries()) {
      const start = link.installationId === cursor?.installationId ? cursor.offset : 0;
      const shown = await readInstallation(link, start, limit - items.length, deps);
      items.push(...shown.items);
      if (items.length < limit) continue;
      const next = links[index + 1];
      if (!shown.exhausted) nextCursor = { installationId: link.installationId, offset: start + shown.items.length };
      else if (next) nextCursor = { installationId: next.installationId, offset: 0 };
      break;
    }
    const body: RepositoryPage = {
      items,
      ...(nextCursor ? { nextCursor: encodeRepositoryCursor(nextCursor) } : {}),
    };
    return jsonResponse(200, body);
  });
}

/** Up to `wanted` repositories of one installation from `offset`, and whether the installation has no more. */
async function readInstallation(
  link: Installation,
  offset: number,
  wanted: number,
  deps: RepositoryRouteDependencies,
): Promise<{ items: RepositorySummary[]; exhausted: boolean }> {
  const items: RepositorySummary[] = [];
  let position = offset;
  while (items.length < wanted) {
    const page = Math.floor(position / GITHUB_PAGE_SIZE) + 1;
    const within = position % GITHUB_PAGE_SIZE;
    let result;
    try {
      result = await deps.github.page(link.installationId, link.accountLogin ?? "", page, GITHUB_PAGE_SIZE);
    } catch (error) {
      if (isPermanentError(error) && SKIPPED_CODES.includes(error.code)) {
        deps.logger.warn("installation skipped", { installationId: link.installationId, code: error.code });
        return { items, exhausted: true };
      }
      throw error;
    }
    const taken = result.repositories.slice(within, within + wanted - items.length);
    items.push(...taken.map((repository) => ({ ...repository, installationId: link.installationId })));
    position += taken.length;
    if (taken.length === 0 || position >= result.totalCount) return { items, exhausted: true };
  }
  return { items, exhausted: false };
}
