import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as SdkStreamRecord,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord } from "aws-lambda";
import type { Logger } from "../../../runtime/log";
import type { Checkpoints } from "./checkpoints";
import { SHARD_END } from "./checkpoints";
import type { RecordFilter } from "./eventFilter";
import type { Invoke, InvokeResult } from "./invokeResult";
import { toLambdaStreamRecord } from "./lambdaStreamRecord";
import { sleep } from "./sleep";
import { expiredPrefixLength, stepAfterInvoke, type StreamBatchPolicy } from "./streamBatchStep";
import type { StreamFailureCondition } from "./streamFailureRecord";

/** Resolves when the signal aborts (a wait with no timeout of its own). */
function sleepUntilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** DynamoDB Streams' GetRecords returns at most 1000 records. */
const MAX_GET_RECORDS = 1000;

/** One record of a batch, with what the mapping needs besides what the function sees. */
export interface StreamEntry {
  readonly record: DynamoDBRecord;
  readonly sequenceNumber: string;
  /** The shard position just before this record (a checkpoint there makes the record the next one read). */
  readonly before: string | undefined;
  /** ApproximateCreationDateTime, epoch seconds. */
  readonly createdSeconds: number;
}

/** A batch read from the shard and not yet settled. */
interface PendingBatch {
  entries: readonly StreamEntry[];
  /** Invocations of this batch so far. */
  attempts: number;
  lastRequestId?: string;
  lastFunctionError?: string;
  /** Set once the batch is given up on; the on-failure message is (re)sent until it is delivered. */
  abandon?: StreamFailureCondition;
}

export interface StreamMappingCounters {
  invocations: number;
  recordsRead: number;
  recordsFiltered: number;
  recordsSucceeded: number;
  functionErrors: number;
  partialFailures: number;
  retries: number;
  bisections: number;
  invokeFailures: number;
  batchesGivenUp: number;
  recordsGivenUp: number;
  lastError: string | undefined;
}

/** What every shard of a mapping shares: settings, collaborators, counters, the stop signal. */
export interface ShardContext {
  readonly streams: Pick<DynamoDBStreamsClient, "send">;
  readonly streamArn: string;
  /** `eventSourceARN` of the records. */
  readonly eventSourceArn: string;
  readonly region: string;
  readonly batchSize: number;
  /** Batches of one shard in flight at once (ParallelizationFactor, 1–10). */
  readonly parallelizationFactor: number;
  readonly batchingWindowMs: number;
  readonly maximumRecordAgeInSeconds: number;
  readonly policy: StreamBatchPolicy;
  readonly filter: RecordFilter;
  readonly invoke: Invoke;
  /** Hands records given up on to the on-failure destination; throws if the destination did not take them. */
  readonly giveUp: (
    shardId: string,
    entries: readonly StreamEntry[],
    condition: StreamFailureCondition,
    last: { attempts: number; requestId?: string; functionError?: string },
  ) => Promise<void>;
  readonly checkpoints: Checkpoints;
  readonly pollIntervalMs: number;
  readonly retryDelayMs: (attempt: number) => number;
  readonly clock: () => number;
  readonly newRequestId: () => string;
  readonly logger: Logger;
  readonly counters: StreamMappingCounters;
  readonly signal: AbortSignal;
  /** A number larger than any handed out before: orders reads against `idle()` calls. */
  readonly tick: () => number;
  /** Something changed that `idle()` waiters or shard discovery may care about. */
  readonly changed: (event?: "shard-end") => void;
}

/** One of a shard's concurrent batch lanes: its batches in order, at most one of them in flight. */
interface Lane {
  readonly queue: PendingBatch[];
  running?: Promise<void>;
}

/** How many batches per lane the reader gets ahead of the lanes before it waits for them. */
const LOOKAHEAD_BATCHES = 4;

/**
 * One shard of a stream mapping: reads it in order from its start position and settles each batch (success, partial
 * failure, retry, bisect, give up) as Lambda's poller does per shard.
 *
 * ParallelizationFactor, as Lambda documents it for DynamoDB streams ("Polling and batching streams" in the Lambda
 * developer guide, https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): up to that many batches of one shard
 * are processed at once, and order is kept at the item (partition and sort key) level. So records are dealt to lanes
 * by a hash of their item key; each lane holds one batch in flight and settles its batches in order; a lane stuck
 * on a failing record (retries, bisection) holds up only the items dealt to it. The shard's checkpoint moves only
 * past records that are settled, in every lane: what a restart reads again is exactly what was not settled. With a
 * factor of 1 there is one lane: one batch in flight per shard.
 */
export class ShardWorker {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  /** The last sequence number settled (saved to the checkpoints). */
  checkpoint: string | undefined;
  /** The shard was closed and everything in it settled. */
  finished = false;
  /** The tick of the last read that found nothing new (see ShardContext.tick). */
  caughtUpTick = 0;
  private readonly lanes: Lane[];
  /** Every record read and not yet behind the checkpoint, in shard order, and whether it is settled. */
  private ledger: { sequenceNumber: string; settled: boolean }[] = [];
  private iterator: string | undefined;
  /** The last sequence number read (settled or not): where a new iterator starts. */
  private position: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private startingPosition: "TRIM_HORIZON" | "LATEST";
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly context: ShardContext,
    shard: {
      shardId: string;
      parentShardId?: string;
      checkpoint?: string;
      startingPosition: "TRIM_HORIZON" | "LATEST";
    },
  ) {
    this.shardId = shard.shardId;
    this.parentShardId = shard.parentShardId;
    this.startingPosition = shard.startingPosition;
    this.lanes = Array.from({ length: Math.max(1, context.parallelizationFactor) }, () => ({ queue: [] }));
    if (shard.checkpoint === SHARD_END) this.finished = true;
    else this.checkpoint = this.position = shard.checkpoint;
  }

  get pendingBatches(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.queue.length, 0);
  }

  /** Idle since `tick`: done, or caught up by a read that started after it with nothing left to settle. */
  idleSince(tick: number): boolean {
    return this.finished || (this.caughtUpTick > tick && this.pendingBatches === 0);
  }

  /** Takes the first iterator now, so a LATEST mapping sees every record written after it started. */
  async prime(): Promise<void> {
    if (!this.finished && !this.iterator) this.iterator = await this.newIterator();
  }

  start(): Promise<void> {
    this.loop ??= this.finished ? Promise.resolve() : this.run();
    return this.loop;
  }

  private async run(): Promise<void> {
    const { signal, logger } = this.context;
    while (!signal.aborted) {
      try {
        this.startLanes();
        const busy = this.lanes.some((lane) => lane.running !== undefined || lane.queue.length > 0);
        if (this.closed && !busy) return await this.finish();
        const laneFree = this.lanes.some((lane) => lane.running === undefined && lane.queue.length === 0);
        const canRead = !this.closed && laneFree && this.pendingBatches < this.lanes.length * LOOKAHEAD_BATCHES;
        if (canRead && (await this.readBatch())) continue;
        // Caught up, or every lane busy: wait for a lane to finish, or the next poll.
        await this.waitForChange(canRead || !busy ? this.context.pollIntervalMs : undefined);
      } catch (error) {
        if (signal.aborted) break;
        // Whatever failed, the next read asks for a fresh iterator from where this shard is.
        this.iterator = undefined;
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.context.counters.lastError = message;
        logger.warn("stream mapping: shard step failed, retrying", { shardId: this.shardId, error: message });
        await sleep(Math.max(this.context.pollIntervalMs, 500), signal);
      }
    }
    // Stopping: invocations in flight finish and are checkpointed.
    await Promise.all(this.lanes.map((lane) => lane.running));
  }

  private startLanes(): void {
    for (const lane of this.lanes) {
      if (lane.running !== undefined || lane.queue.length === 0) continue;
      lane.running = this.runLane(lane).finally(() => {
        lane.running = undefined;
        this.wake();
      });
    }
  }

  /** Settles a lane's batches in order, one in flight. */
  private async runLane(lane: Lane): Promise<void> {
    const { signal, logger } = this.context;
    while (lane.queue.length > 0 && !signal.aborted) {
      try {
        await this.settleHead(lane);
      } catch (error) {
        if (signal.aborted) return;
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.context.counters.lastError = message;
        logger.warn("stream mapping: settling a batch failed, retrying", { shardId: this.shardId, error: message });
        await sleep(Math.max(this.context.pollIntervalMs, 500), signal);
      }
    }
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** Until a lane finishes (or `ms` passes, when given), or the mapping stops. */
  private async waitForChange(ms: number | undefined): Promise<void> {
    const changed = new Promise<void>((resolve) => (this.wakeUp = resolve));
    await Promise.race([
      changed,
      ms === undefined ? sleepUntilAborted(this.context.signal) : sleep(ms, this.context.signal),
    ]);
    this.wakeUp = undefined;
  }

  /** The lane an item's records go to: its key's hash, so one item's records stay in order in one lane. */
  private laneOf(entry: StreamEntry): Lane {
    if (this.lanes.length === 1) return this.lanes[0]!;
    const key = JSON.stringify(entry.record.dynamodb?.Keys ?? entry.sequenceNumber);
    let hash = 0x811c9dc5; // FNV-1a: any stable hash spreads items across lanes
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
    return this.lanes[hash % this.lanes.length]!;
  }

  /** Marks records settled, and moves the checkpoint past every settled record at the head of the shard. */
  private async settle(sequenceNumbers: readonly string[]): Promise<void> {
    const done = new Set(sequenceNumbers);
    for (const entry of this.ledger) if (done.has(entry.sequenceNumber)) entry.settled = true;
    let settled = 0;
    while (settled < this.ledger.length && this.ledger[settled]!.settled) settled++;
    if (settled === 0) return;
    const last = this.ledger[settled - 1]!.sequenceNumber;
    this.ledger = this.ledger.slice(settled);
    await this.saveCheckpoint(last);
  }

  // ---- reading ------------------------------------------------------------------------------------------------

  /** Reads the next batch: records the filter passes, up to batchSize, within the batching window. */
  private async readBatch(): Promise<boolean> {
    const { context } = this;
    const tick = context.tick();
    const entries: StreamEntry[] = [];
    let read = 0;
    let windowEnds: number | undefined;
    for (;;) {
      const limit = Math.min(MAX_GET_RECORDS, context.batchSize - entries.length);
      let records: SdkStreamRecord[];
      try {
        records = await this.getRecords(limit);
      } catch (error) {
        if (read === 0) throw error;
        break; // deliver what was read; the next read retries
      }
      for (const raw of records) {
        const sequenceNumber = raw.dynamodb?.SequenceNumber;
        if (!sequenceNumber) continue;
        const record = toLambdaStreamRecord(raw, { region: context.region, eventSourceArn: context.eventSourceArn });
        const entry: StreamEntry = {
          record,
          sequenceNumber,
          before: this.position,
          createdSeconds: record.dynamodb?.ApproximateCreationDateTime ?? context.clock() / 1000,
        };
        this.position = sequenceNumber;
        read++;
        context.counters.recordsRead++;
        const passes = context.filter(record);
        this.ledger.push({ sequenceNumber, settled: !passes });
        if (passes) entries.push(entry);
        else context.counters.recordsFiltered++;
      }
      if (entries.length >= context.batchSize || this.closed) break;
      if (records.length < limit) {
        // Caught up with the shard. With a batching window, keep gathering until it closes.
        if (context.batchingWindowMs > 0 && entries.length > 0 && !context.signal.aborted) {
          windowEnds ??= Date.now() + context.batchingWindowMs;
          const left = windowEnds - Date.now();
          if (left > 0) {
            await sleep(Math.min(context.pollIntervalMs, left), context.signal);
            if (!context.signal.aborted) continue;
          }
        }
        break;
      }
    }
    if (read === 0) {
      if (this.closed) return true;
      this.caughtUpTick = tick;
      context.changed();
      return false;
    }
    // Each lane gets its items' records as one batch; records the filter dropped are settled already, and the
    // checkpoint moves past them as soon as nothing unsettled is before them.
    const byLane = new Map<Lane, StreamEntry[]>();
    for (const entry of entries) {
      const lane = this.laneOf(entry);
      byLane.set(lane, [...(byLane.get(lane) ?? []), entry]);
    }
    for (const [lane, laneEntries] of byLane) lane.queue.push({ entries: laneEntries, attempts: 0 });
    await this.settle([]);
    context.changed();
    return true;
  }

  private async getRecords(limit: number): Promise<SdkStreamRecord[]> {
    const { streams } = this.context;
    this.iterator ??= await this.newIterator();
    if (!this.iterator) {
      this.closed = true;
      return [];
    }
    const ask = (iterator: string) => streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    let answer: Awaited<ReturnType<typeof ask>>;
    try {
      answer = await ask(this.iterator);
    } catch (error) {
      this.iterator = undefined;
      const name = (error as { name?: string }).name;
      if (name === "TrimmedDataAccessException") this.positionTrimmed();
      // Iterators expire after 15 minutes (DynamoDB Local's too): ask for a fresh one from where we are.
      else if (name !== "ExpiredIteratorException") throw error;
      const fresh = await this.newIterator();
      if (!fresh) {
        this.closed = true;
        return [];
      }
      answer = await ask(fresh);
    }
    this.iterator = answer.NextShardIterator;
    // No next iterator: the shard is closed and this was its end.
    if (!answer.NextShardIterator) this.closed = true;
    return answer.Records ?? [];
  }

  private async newIterator(): Promise<string | undefined> {
    const { streams, streamArn } = this.context;
    const ask = (where: { ShardIteratorType: ShardIteratorType; SequenceNumber?: string }) =>
      streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: this.shardId, ...where }));
    if (!this.position) return (await ask({ ShardIteratorType: this.startingPosition })).ShardIterator;
    try {
      return (await ask({ ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: this.position })).ShardIterator;
    } catch (error) {
      if ((error as { name?: string }).name !== "TrimmedDataAccessException") throw error;
      this.positionTrimmed();
      return (await ask({ ShardIteratorType: "TRIM_HORIZON" })).ShardIterator;
    }
  }

  /** The stream no longer holds where we were (records older than 24 h are trimmed): go on from its oldest. */
  private positionTrimmed(): void {
    if (this.position === undefined) {
      // Nothing was read yet, so nothing is lost. DynamoDB Local does this to an iterator taken on an empty shard
      // once the first record arrives.
      this.context.logger.info("stream mapping: iterator outdated before the first record; reading from the oldest", {
        shardId: this.shardId,
      });
    } else {
      this.context.logger.warn("stream mapping: position trimmed from the stream; the records in between are lost", {
        shardId: this.shardId,
        position: this.position,
      });
    }
    this.position = undefined;
    this.startingPosition = "TRIM_HORIZON";
  }

  // ---- settling -----------------------------------------------------------------------------------------------

  private async settleHead(lane: Lane): Promise<void> {
    const { context } = this;
    const batch = lane.queue[0]!;
    if (batch.abandon) return this.abandon(lane, batch);
    if (context.signal.aborted) return;

    const expired = expiredPrefixLength(
      batch.entries.map((entry) => entry.createdSeconds),
      context.clock(),
      context.maximumRecordAgeInSeconds,
    );
    if (expired > 0) {
      const gone = batch.entries.slice(0, expired);
      const rest = batch.entries.slice(expired);
      const expiredBatch: PendingBatch = { ...batch, entries: gone };
      expiredBatch.abandon = "RecordAgeExceeded";
      lane.queue.splice(0, 1, expiredBatch, ...(rest.length > 0 ? [{ ...batch, entries: rest }] : []));
      return this.abandon(lane, expiredBatch);
    }

    batch.attempts++;
    const requestId = context.newRequestId();
    let result: InvokeResult;
    try {
      result = await context.invoke({ Records: batch.entries.map((entry) => entry.record) });
    } catch (error) {
      // Lambda could not run the function (not the function's failure): retried, not counted against the batch.
      batch.attempts--;
      context.counters.invokeFailures++;
      context.logger.warn("stream mapping: invocation failed before the function ran; retrying", {
        shardId: this.shardId,
        error: error instanceof Error ? error.message : String(error),
      });
      await sleep(context.retryDelayMs(1), context.signal);
      return;
    }
    context.counters.invocations++;
    batch.lastRequestId = requestId;
    batch.lastFunctionError = result.ok ? undefined : "Unhandled";
    if (!result.ok) context.counters.functionErrors++;

    const identifiers = batch.entries.map((entry) => entry.sequenceNumber);
    const step = stepAfterInvoke(result, identifiers, batch.attempts, context.policy);
    if (step.step !== "done") {
      context.logger.warn(`stream mapping: batch ${step.step}`, {
        shardId: this.shardId,
        firstSequenceNumber: identifiers[0],
        records: identifiers.length,
        attempts: batch.attempts,
        reason: step.reason,
      });
    }
    switch (step.step) {
      case "done":
        lane.queue.shift();
        context.counters.recordsSucceeded += batch.entries.length;
        await this.settle(identifiers);
        break;
      case "bisect": {
        context.counters.bisections++;
        const middle = Math.ceil(batch.entries.length / 2);
        lane.queue.splice(
          0,
          1,
          { entries: batch.entries.slice(0, middle), attempts: 0 },
          { entries: batch.entries.slice(middle), attempts: 0 },
        );
        break;
      }
      case "retry":
        if (step.from > 0) context.counters.partialFailures++;
        await this.settlePrefix(batch, step.from);
        context.counters.retries++;
        context.changed();
        await sleep(context.retryDelayMs(batch.attempts), context.signal);
        break;
      case "give-up":
        if (step.from > 0) context.counters.partialFailures++;
        await this.settlePrefix(batch, step.from);
        batch.abandon = "RetryAttemptsExhausted";
        await this.abandon(lane, batch);
        break;
    }
    context.changed();
  }

  /** The records before `from` succeeded: settle them (the checkpoint can reach just before `from`), keep the rest. */
  private async settlePrefix(batch: PendingBatch, from: number): Promise<void> {
    if (from === 0) return;
    const succeeded = batch.entries.slice(0, from);
    batch.entries = batch.entries.slice(from);
    this.context.counters.recordsSucceeded += from;
    await this.settle(succeeded.map((entry) => entry.sequenceNumber));
  }

  /** Sends the batch's location to the on-failure destination, then moves past it. */
  private async abandon(lane: Lane, batch: PendingBatch): Promise<void> {
    const { context } = this;
    await context.giveUp(this.shardId, batch.entries, batch.abandon!, {
      attempts: batch.attempts,
      ...(batch.lastRequestId ? { requestId: batch.lastRequestId } : {}),
      ...(batch.lastFunctionError ? { functionError: batch.lastFunctionError } : {}),
    });
    context.counters.batchesGivenUp++;
    context.counters.recordsGivenUp += batch.entries.length;
    lane.queue.shift();
    await this.settle(batch.entries.map((entry) => entry.sequenceNumber));
    context.changed();
  }

  private async finish(): Promise<void> {
    await this.saveCheckpoint(SHARD_END);
    this.finished = true;
    this.context.logger.info("stream mapping: shard read to its end", { shardId: this.shardId });
    this.context.changed("shard-end");
  }

  /** A checkpoint that cannot be saved is logged, not retried: the next one supersedes it. */
  private async saveCheckpoint(sequenceNumber: string): Promise<void> {
    this.checkpoint = sequenceNumber;
    try {
      await this.context.checkpoints.save(this.shardId, sequenceNumber);
    } catch (error) {
      this.context.logger.error("stream mapping: could not save a checkpoint", {
        shardId: this.shardId,
        sequenceNumber,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
