import { randomUUID } from "node:crypto";
import { DescribeStreamCommand, type DynamoDBStreamsClient, type Shard } from "@aws-sdk/client-dynamodb-streams";
import { silentLogger, type Logger } from "../../../runtime/log";
import { createMemoryCheckpoints, SHARD_END, type Checkpoints } from "./checkpoints";
import { compileFilterCriteria, type FilterCriteria } from "./eventFilter";
import type { Invoke } from "./invokeResult";
import { ShardWorker, type ShardContext, type StreamMappingCounters } from "./shardWorker";
import { streamFailureRecord, type StreamFailureRecord } from "./streamFailureRecord";

/** The event source mapping's settings, named and defaulted as Lambda's CreateEventSourceMapping names them. */
export interface StreamMappingSettings {
  /** Records per invocation, 1–10000. Default 100. */
  readonly batchSize?: number;
  /** Where a mapping with no checkpoint starts: the oldest record kept, or records written from now on. */
  readonly startingPosition: "TRIM_HORIZON" | "LATEST";
  readonly filterCriteria?: FilterCriteria;
  /** ["ReportBatchItemFailures"] to let the function report partial failures. Default none. */
  readonly functionResponseTypes?: readonly string[];
  /** Split a failed batch in two and retry the halves. Default false. */
  readonly bisectBatchOnFunctionError?: boolean;
  /** Retries of a failed batch, 0–10000; -1 (the default) retries until the records expire. */
  readonly maximumRetryAttempts?: number;
  /** Oldest record sent, 60–604800 s; -1 (the default) means no limit. */
  readonly maximumRecordAgeInSeconds?: number;
  /** Gather records up to this long before invoking, 0–300 s. Default 0. */
  readonly maximumBatchingWindowInSeconds?: number;
  /** Concurrent batches per shard, 1–10; order is kept per item (see ShardWorker). Default 1. */
  readonly parallelizationFactor?: number;
}

export interface StreamMappingOptions {
  /** A DynamoDB Streams client (pointed at DynamoDB Local). */
  readonly streams: Pick<DynamoDBStreamsClient, "send">;
  /** The stream's ARN as DynamoDB Local knows it; failure records carry it, so consumers can read the records back. */
  readonly streamArn: string;
  /** `eventSourceARN` in the records. Default `streamArn` (what Lambda puts there). */
  readonly eventSourceArn?: string;
  /** The table the stream belongs to; checked against the stream and named in logs. */
  readonly tableName: string;
  readonly mapping: StreamMappingSettings;
  readonly invoke: Invoke;
  /** Delivers a failure record to the on-failure destination (an SQS queue's send, locally). */
  readonly sendOnFailure?: (destinationArn: string, message: StreamFailureRecord) => Promise<void>;
  /** The on-failure destination. Without one, records given up on are only logged (as Lambda drops them). */
  readonly destinationArn?: string;
  /** The function's ARN, quoted in failure records. */
  readonly functionArn?: string;
  /** Where per-shard progress is kept, so a restart continues where it stopped. Default in memory. */
  readonly checkpoints?: Checkpoints;
  /** How often a caught-up shard is polled. Default 250 ms (Lambda polls DynamoDB streams 4 times a second). */
  readonly pollIntervalMs?: number;
  /** How often DescribeStream looks for new shards (DynamoDB Local rolls shards over every 4 hours). Default 2 s. */
  readonly shardDiscoveryIntervalMs?: number;
  /** Pause before retry `attempt` (1, 2, …) of a failed batch. Default 100 ms × attempt, at most 5 s. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** Milliseconds since the epoch: record age and failure-record timestamps. Default Date.now. */
  readonly clock?: () => number;
  /** Invocation request ids. Default random UUIDs. */
  readonly newRequestId?: () => string;
  readonly logger?: Logger;
  /** `awsRegion` in records. Default "us-east-1". */
  readonly region?: string;
}

export interface StreamMappingStats extends Omit<StreamMappingCounters, "lastError"> {
  readonly lastError?: string;
  readonly shards: readonly {
    readonly shardId: string;
    readonly parentShardId?: string;
    readonly checkpoint?: string;
    readonly finished: boolean;
    readonly pendingBatches: number;
  }[];
}

export interface StreamMapping {
  /** Stops polling; an invocation in flight finishes and is checkpointed first. Nothing settled is delivered again. */
  stop(): Promise<void>;
  /** Resolves once every shard has been read to its current end, nothing is in flight and nothing awaits a retry. */
  idle(): Promise<void>;
  stats(): StreamMappingStats;
}

const LIMITS = {
  batchSize: [1, 10_000],
  maximumRetryAttempts: [-1, 10_000],
  maximumBatchingWindowInSeconds: [0, 300],
  parallelizationFactor: [1, 10],
} as const;

const RESPONSE_TYPES = ["ReportBatchItemFailures"];

/**
 * A DynamoDB stream → function event source mapping on this machine, with Lambda's semantics: shards discovered
 * with DescribeStream and read in order (a parent shard to its end before its children), one batch in flight per
 * shard, filter criteria, batching, partial batch responses, bisection, retries counted per batch, record age, the
 * on-failure destination, and checkpoints so a restart continues where it stopped.
 *
 * Resolves once the shards present are known and (for LATEST) their positions taken, so every record written after
 * it resolves is seen. Throws on settings Lambda would refuse and on a filter pattern that does not compile.
 */
export async function startStreamMapping(options: StreamMappingOptions): Promise<StreamMapping> {
  const settings = checkSettings(options.mapping);
  const logger = options.logger ?? silentLogger;
  const filter = compileFilterCriteria(settings.filterCriteria);
  const clock = options.clock ?? Date.now;
  const checkpoints = options.checkpoints ?? createMemoryCheckpoints();
  const abort = new AbortController();
  const counters: StreamMappingCounters = {
    invocations: 0,
    recordsRead: 0,
    recordsFiltered: 0,
    recordsSucceeded: 0,
    functionErrors: 0,
    partialFailures: 0,
    retries: 0,
    bisections: 0,
    invokeFailures: 0,
    batchesGivenUp: 0,
    recordsGivenUp: 0,
    lastError: undefined,
  };
  let ticks = 0;
  const workers = new Map<string, ShardWorker>();
  const waiters: { tick: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  let discoveredTick = 0;
  /** Shards seen but not started: their parent is still being read. */
  let waitingShards = 0;
  let wakeRequested = false;
  let wakeWaiting: (() => void) | undefined;
  const wakeDiscovery = () => {
    wakeRequested = true;
    wakeWaiting?.();
  };

  const isIdleSince = (tick: number) =>
    discoveredTick > tick && waitingShards === 0 && [...workers.values()].every((worker) => worker.idleSince(tick));
  const checkIdle = () => {
    for (const waiter of [...waiters]) {
      if (isIdleSince(waiter.tick)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  const context: ShardContext = {
    streams: options.streams,
    streamArn: options.streamArn,
    eventSourceArn: options.eventSourceArn ?? options.streamArn,
    region: options.region ?? "us-east-1",
    batchSize: settings.batchSize ?? 100,
    parallelizationFactor: settings.parallelizationFactor ?? 1,
    batchingWindowMs: (settings.maximumBatchingWindowInSeconds ?? 0) * 1000,
    maximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds ?? -1,
    policy: {
      reportsItemFailures: (settings.functionResponseTypes ?? []).includes("ReportBatchItemFailures"),
      bisectBatchOnFunctionError: settings.bisectBatchOnFunctionError ?? false,
      maximumRetryAttempts: settings.maximumRetryAttempts ?? -1,
    },
    filter,
    invoke: options.invoke,
    giveUp: async (shardId, entries, condition, last) => {
      const message = streamFailureRecord({
        condition,
        requestId: last.requestId ?? (options.newRequestId ?? randomUUID)(),
        ...(options.functionArn ? { functionArn: options.functionArn } : {}),
        approximateInvokeCount: last.attempts,
        ...(last.functionError ? { functionError: last.functionError } : {}),
        timestamp: new Date(clock()),
        shardId,
        streamArn: options.streamArn,
        records: entries.map((entry) => ({
          sequenceNumber: entry.sequenceNumber,
          approximateCreationSeconds: entry.createdSeconds,
        })),
      });
      const where = { table: options.tableName, shardId, condition, records: entries.length };
      if (options.destinationArn && options.sendOnFailure) {
        await options.sendOnFailure(options.destinationArn, message);
        logger.warn("stream mapping: records given up on, sent to the on-failure destination", {
          ...where,
          destination: options.destinationArn,
        });
      } else {
        logger.error("stream mapping: records given up on and dropped (no on-failure destination)", where);
      }
    },
    checkpoints,
    pollIntervalMs: options.pollIntervalMs ?? 250,
    retryDelayMs: options.retryDelayMs ?? ((attempt) => Math.min(100 * attempt, 5_000)),
    clock,
    newRequestId: options.newRequestId ?? randomUUID,
    logger,
    counters,
    signal: abort.signal,
    tick: () => ++ticks,
    changed: (event) => {
      if (event === "shard-end") wakeDiscovery();
      checkIdle();
    },
  };

  const describeShards = async (): Promise<{ shards: Shard[]; tableName?: string }> => {
    const shards: Shard[] = [];
    let tableName: string | undefined;
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: description } = await options.streams.send(
        new DescribeStreamCommand({ StreamArn: options.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      tableName = description?.TableName;
      shards.push(...(description?.Shards ?? []));
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return { shards, ...(tableName ? { tableName } : {}) };
  };

  /**
   * Starts every shard whose parent is done (or gone from the stream). At the very first discovery of a mapping
   * without any checkpoint, LATEST starts the open shards at their tip and skips closed ones; every shard found
   * later, or when the mapping resumes from checkpoints, is read from its start.
   */
  const discover = async (first: boolean): Promise<void> => {
    const tick = ++ticks;
    const { shards, tableName } = await describeShards();
    if (first && tableName && tableName !== options.tableName) {
      logger.warn("stream mapping: the stream belongs to another table than the one named", {
        streamArn: options.streamArn,
        streamTable: tableName,
        tableName: options.tableName,
      });
    }
    const saved = new Map<string, string | undefined>();
    for (const shard of shards) {
      if (shard.ShardId && !workers.has(shard.ShardId)) saved.set(shard.ShardId, await checkpoints.load(shard.ShardId));
    }
    const fromLatest = first && settings.startingPosition === "LATEST" && [...saved.values()].every((value) => !value);
    const listed = new Set(shards.map((shard) => shard.ShardId));
    const parentDone = (parent: string | undefined) =>
      !parent || !listed.has(parent) || workers.get(parent)?.finished === true;
    let startedOne: boolean;
    do {
      startedOne = false;
      for (const shard of shards) {
        const shardId = shard.ShardId;
        if (!shardId || workers.has(shardId) || !parentDone(shard.ParentShardId)) continue;
        const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        const worker = new ShardWorker(context, {
          shardId,
          ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
          // A closed shard under a fresh LATEST mapping holds only records from before it: nothing to read.
          ...(fromLatest && closed ? { checkpoint: SHARD_END } : {}),
          ...(saved.get(shardId) ? { checkpoint: saved.get(shardId)! } : {}),
          startingPosition: fromLatest ? "LATEST" : "TRIM_HORIZON",
        });
        workers.set(shardId, worker);
        if (fromLatest) await worker.prime();
        void worker.start();
        startedOne = true;
        logger.info("stream mapping: reading shard", {
          table: options.tableName,
          shardId,
          checkpoint: worker.checkpoint,
        });
      }
    } while (startedOne);
    waitingShards = shards.filter((shard) => shard.ShardId && !workers.has(shard.ShardId)).length;
    discoveredTick = tick;
    checkIdle();
  };

  try {
    await discover(true);
  } catch (error) {
    abort.abort();
    await Promise.allSettled([...workers.values()].map((worker) => worker.start()));
    throw error;
  }

  const discovery = (async () => {
    while (!abort.signal.aborted) {
      if (!wakeRequested) {
        // Until the interval passes, a wake-up or stop; whichever comes first clears the others.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            abort.signal.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, options.shardDiscoveryIntervalMs ?? 2_000);
          abort.signal.addEventListener("abort", done, { once: true });
          wakeWaiting = done;
        });
      }
      wakeWaiting = undefined;
      wakeRequested = false;
      if (abort.signal.aborted) return;
      try {
        await discover(false);
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        counters.lastError = message;
        logger.warn("stream mapping: DescribeStream failed; trying again", {
          table: options.tableName,
          error: message,
        });
      }
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        abort.abort();
        wakeDiscovery();
        await discovery;
        await Promise.allSettled([...workers.values()].map((worker) => worker.start()));
        for (const waiter of waiters.splice(0))
          waiter.reject(new Error("The stream mapping was stopped before it was idle."));
      })();
      return stopping;
    },
    idle() {
      if (abort.signal.aborted) return Promise.reject(new Error("The stream mapping is stopped."));
      const tick = ++ticks;
      return new Promise<void>((resolve, reject) => {
        waiters.push({ tick, resolve, reject });
        wakeDiscovery(); // a fresh look at the shards, so idle() does not wait a whole discovery interval
      });
    },
    stats() {
      const { lastError, ...rest } = counters;
      return {
        ...rest,
        ...(lastError ? { lastError } : {}),
        shards: [...workers.values()].map((worker) => ({
          shardId: worker.shardId,
          ...(worker.parentShardId ? { parentShardId: worker.parentShardId } : {}),
          ...(worker.checkpoint ? { checkpoint: worker.checkpoint } : {}),
          finished: worker.finished,
          pendingBatches: worker.pendingBatches,
        })),
      };
    },
  };
}

/** Lambda's validation of a DynamoDB mapping, so a setting AWS would refuse fails here too, naming the setting. */
function checkSettings(settings: StreamMappingSettings): StreamMappingSettings {
  if (settings.startingPosition !== "TRIM_HORIZON" && settings.startingPosition !== "LATEST") {
    throw new Error(
      `mapping.startingPosition must be TRIM_HORIZON or LATEST for a DynamoDB stream; got ${String(settings.startingPosition)}.`,
    );
  }
  for (const [name, [min, max]] of Object.entries(LIMITS) as [keyof typeof LIMITS, readonly [number, number]][]) {
    const value = settings[name];
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      throw new Error(`mapping.${name} must be an integer from ${min} to ${max}; got ${value}.`);
    }
  }
  const age = settings.maximumRecordAgeInSeconds;
  if (age !== undefined && age !== -1 && (!Number.isInteger(age) || age < 60 || age > 604_800)) {
    throw new Error(`mapping.maximumRecordAgeInSeconds must be -1 or from 60 to 604800 seconds; got ${age}.`);
  }
  const unknown = (settings.functionResponseTypes ?? []).filter((type) => !RESPONSE_TYPES.includes(type));
  if (unknown.length > 0) {
    throw new Error(`mapping.functionResponseTypes may only hold ReportBatchItemFailures; got ${unknown.join(", ")}.`);
  }
  return settings;
}
