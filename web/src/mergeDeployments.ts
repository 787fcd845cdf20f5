import type { Deployment } from "./types";

/**
 * Folds a fresh first page into the list already shown: the fresh items first (newest first, as the API orders them),
 * then the older ones loaded earlier that the fresh page does not cover. Returns whether anything visible changed.
 */
export function mergeFirstPage(
  shown: readonly Deployment[],
  fresh: readonly Deployment[],
): { items: Deployment[]; changed: boolean } {
  const freshIds = new Set(fresh.map((d) => d.id));
  const items = [...fresh, ...shown.filter((d) => !freshIds.has(d.id))];
  const changed =
    items.length !== shown.length ||
    items.some((d, i) => d.id !== shown[i]?.id || d.updatedAt !== shown[i]?.updatedAt || d.status !== shown[i]?.status);
  return { items, changed };
}
