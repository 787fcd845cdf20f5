/**
 * How Lambda reads a function's partial batch response (`ReportBatchItemFailures`), for streams and queues alike:
 *
 * - no response, a response without `batchItemFailures`, `null` or `[]`: every item succeeded;
 * - a list naming items of the batch: those failed (the rest succeeded);
 * - a list with an empty/null identifier, one not in the batch, or a list that is not a list: the whole batch failed.
 *
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
 */
export type BatchItemFailures =
  | { readonly kind: "all-succeeded" }
  /** Indexes into the batch of the items reported, ascending, without duplicates. */
  | { readonly kind: "items-failed"; readonly failed: readonly number[] }
  | { readonly kind: "batch-failed"; readonly reason: string };

/**
 * @param response the function's result (already parsed from JSON)
 * @param identifiers each item's identifier in batch order (sequence numbers for streams, message ids for SQS)
 */
export function readBatchItemFailures(response: unknown, identifiers: readonly string[]): BatchItemFailures {
  if (typeof response !== "object" || response === null || !("batchItemFailures" in response)) {
    return { kind: "all-succeeded" };
  }
  const list = (response as { batchItemFailures: unknown }).batchItemFailures;
  if (list === null || list === undefined) return { kind: "all-succeeded" };
  if (!Array.isArray(list)) return { kind: "batch-failed", reason: "batchItemFailures is not a list" };
  const failed = new Set<number>();
  for (const entry of list as unknown[]) {
    const identifier =
      typeof entry === "object" && entry !== null ? (entry as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof identifier !== "string" || identifier === "") {
      return {
        kind: "batch-failed",
        reason: `batchItemFailures holds an entry without an itemIdentifier: ${JSON.stringify(entry)}`,
      };
    }
    const index = identifiers.indexOf(identifier);
    if (index < 0)
      return { kind: "batch-failed", reason: `itemIdentifier ${JSON.stringify(identifier)} is not in the batch` };
    failed.add(index);
  }
  if (failed.size === 0) return { kind: "all-succeeded" };
  return { kind: "items-failed", failed: [...failed].sort((a, b) => a - b) };
}
