import { isMissingRoute } from "./api";
import type { Repository, RepositoryPage } from "./types";

/**
 * The Deploy dialog's repositories from GET /repositories, a page at a time ("load more" with nextCursor). Where the
 * API has no such route (the gateway's 404), `available` turns false and the dialog keeps its typed owner/name only.
 */
export function createRepositoryList(listPage: (cursor: string | undefined) => Promise<RepositoryPage>) {
  let items: Repository[] = [];
  let nextCursor: string | undefined;
  let available: boolean | undefined;
  let loading: Promise<void> | undefined;
  return {
    get items(): readonly Repository[] {
      return items;
    },
    get hasMore(): boolean {
      return nextCursor !== undefined;
    },
    /** undefined until the first page answered; false when the API has no GET /repositories. */
    get available(): boolean | undefined {
      return available;
    },
    /** Loads the first page, then the next one per call; calls while one is loading share it. */
    loadMore(): Promise<void> {
      if (available === false || (available === true && nextCursor === undefined)) return Promise.resolve();
      loading ??= listPage(nextCursor)
        .then((page) => {
          available = true;
          items = mergeRepositories(items, page.items);
          nextCursor = page.nextCursor;
        })
        .catch((error: unknown) => {
          if (!isMissingRoute(error)) throw error;
          available = false;
        })
        .finally(() => (loading = undefined));
      return loading;
    },
  };
}

/** Appends a page, leaving out repositories already listed (a page boundary moved while paging). */
export function mergeRepositories(shown: readonly Repository[], page: readonly Repository[]): Repository[] {
  const seen = new Set(shown.map((r) => r.fullName.toLowerCase()));
  return [...shown, ...page.filter((r) => !seen.has(r.fullName.toLowerCase()))];
}

/** The repositories whose owner/name holds every word of the query, case-insensitively. */
export function filterRepositories(items: readonly Repository[], query: string): Repository[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter((r) => words.every((word) => r.fullName.toLowerCase().includes(word)));
}

/**
 * The ref after a repository is picked: its default branch, unless the person typed a ref of their own (anything
 * but empty or the branch an earlier pick filled in).
 */
export function refAfterPick(currentRef: string, previouslyFilled: string | undefined, picked: Repository): string {
  const typed = currentRef.trim() !== "" && currentRef !== previouslyFilled;
  return typed ? currentRef : picked.defaultBranch;
}
