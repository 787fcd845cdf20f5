import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Where a stream mapping remembers, per shard, the last sequence number it is done with, so that a restarted
 * mapping continues after it (Lambda keeps this for you; locally it is this store). `SHARD_END` marks a closed shard
 * read to its end, so its children may start.
 */
export interface Checkpoints {
  load(shardId: string): Promise<string | undefined>;
  save(shardId: string, sequenceNumber: string): Promise<void>;
}

/** Saved for a shard that was closed and read to its end (as the Kinesis Client Library names it). */
export const SHARD_END = "SHARD_END";

/** Checkpoints in memory: pass the same object to the next `startStreamMapping` to continue where it stopped. */
export function createMemoryCheckpoints(
  initial: Record<string, string> = {},
): Checkpoints & { entries(): Record<string, string> } {
  const saved = new Map(Object.entries(initial));
  return {
    load: async (shardId) => saved.get(shardId),
    save: async (shardId, sequenceNumber) => {
      saved.set(shardId, sequenceNumber);
    },
    entries: () => Object.fromEntries(saved),
  };
}

/**
 * Checkpoints in a JSON file (`{ "<shardId>": "<sequence number>" }`), written whole through a temporary file and a
 * rename so a crash never leaves half a file. Shard ids are unique per stream, so one file can serve one mapping.
 */
export function createFileCheckpoints(file: string): Checkpoints {
  // Only this mapping writes the file, so what it last wrote is what the file holds: read once, not per batch.
  let saved: Record<string, string> | undefined;
  const read = (): Record<string, string> => (saved ??= readFile());
  const readFile = (): Record<string, string> => {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new Error(`Cannot read the checkpoints in ${file} (${(error as Error).message}); delete it to start over.`);
    }
  };
  return {
    load: async (shardId) => read()[shardId],
    save: async (shardId, sequenceNumber) => {
      const next = { ...read(), [shardId]: sequenceNumber };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify(next, null, 2));
      fs.renameSync(temporary, file);
      saved = next;
    },
  };
}
