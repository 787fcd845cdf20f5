export interface ShardIteratorMemory {
  /** Records that `iterator` was issued for `streamArn`. */
  remember(iterator: string, streamArn: string): void;
  /** The stream `iterator` was issued for, if it was seen and not yet forgotten. */
  streamOf(iterator: string): string | undefined;
  readonly size: number;
}

/**
 * Shard iterator → stream ARN, learned from GetShardIterator and GetRecords answers. Every GetRecords issues a new
 * iterator, so a poller running for hours would grow this without end: past `capacity` the oldest are forgotten.
 * A poller holds one live iterator per shard, so the default leaves ample room; a forgotten one is refused and the
 * poller asks GetShardIterator again, as it would after AWS's 15-minute expiry.
 */
export function createShardIteratorMemory(capacity = 10_000): ShardIteratorMemory {
  const streams = new Map<string, string>();
  return {
    remember(iterator, streamArn) {
      streams.delete(iterator);
      streams.set(iterator, streamArn);
      // Map iteration follows insertion order: the first key is the oldest.
      while (streams.size > capacity) streams.delete(streams.keys().next().value as string);
    },
    streamOf: (iterator) => streams.get(iterator),
    get size() {
      return streams.size;
    },
  };
}
