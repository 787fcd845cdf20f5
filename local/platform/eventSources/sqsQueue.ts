import { randomUUID } from "node:crypto";
import { md5OfBody, md5OfMessageAttributes, type MessageAttributeValue } from "./sqsDigests";

export type { MessageAttributeValue } from "./sqsDigests";

/** A message as the queue keeps it (plain JSON, so `persist` can write it anywhere). */
export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly md5OfMessageAttributes?: string;
  /** Epoch ms when first sent (kept when moved to a dead-letter queue, as SQS keeps it). */
  readonly sentTimestamp: number;
  readonly senderId: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Epoch ms from which the message may be received again. */
  visibleAt: number;
  /** The handle of the latest receive; only it deletes the message or changes its visibility. */
  receiptHandle?: string;
  /** Set on a message a redrive policy moved here: the queue it came from. */
  deadLetterQueueSourceArn?: string;
}

/** A message as ReceiveMessage hands it out (attribute names as SQS spells them). */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly md5OfMessageAttributes?: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
    readonly DeadLetterQueueSourceArn?: string;
  };
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
}

export interface CreateQueueOptions {
  readonly arn: string;
  readonly url: string;
  /** How long a received message stays hidden, 0–43200 s. Default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** How long a message is kept, 60–1209600 s. Default 345600 (4 days). */
  readonly messageRetentionSeconds?: number;
  /** After maxReceiveCount receives, the next receive moves the message to the dead-letter queue instead. */
  readonly redrive?: { readonly deadLetterQueue: Queue; readonly maxReceiveCount: number };
  /** Keeps the messages across restarts: `load` once at creation, `save` after every change. */
  readonly persist?: { load(): QueueMessage[]; save(messages: QueueMessage[]): void };
  /** Epoch ms. Default Date.now. */
  readonly clock?: () => number;
  /** The SenderId attribute of messages sent here. Default "000000000000" (the local account). */
  readonly senderId?: string;
  readonly newId?: () => string;
}

export interface Queue {
  readonly arn: string;
  readonly url: string;
  /** Enqueues a message. Throws on what SQS refuses (an empty body, more than 256 KiB). */
  send(
    body: string,
    attributes?: Readonly<Record<string, MessageAttributeValue>>,
  ): { messageId: string; md5OfBody: string; md5OfMessageAttributes?: string };
  /**
   * Up to `max` (1–10) visible messages, hidden for the visibility timeout from now on. With `waitMs`, waits that
   * long for one to arrive or become visible (long polling); `signal` ends the wait early with what there is.
   */
  receive(max?: number, waitMs?: number, options?: { signal?: AbortSignal }): Promise<ReceivedMessage[]>;
  /** Deletes the message the handle was issued for. False if the handle is not its latest (SQS then may keep it). */
  delete(receiptHandle: string): boolean;
  /** Hides (or, with 0, shows) an in-flight message from now for `visibilityTimeoutSeconds`. False if not in flight. */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): boolean;
  /** Every message held, visible or in flight (copies). */
  messages(): QueueMessage[];
  /** SQS's ApproximateNumberOfMessages (visible) and ApproximateNumberOfMessagesNotVisible (in flight). */
  counts(): { visible: number; inFlight: number };
  /** Takes a message moved here by another queue's redrive policy (its id, body and sent time are kept). */
  acceptDeadLetter(message: QueueMessage, sourceArn: string): void;
}

const MAX_BODY_BYTES = 262_144;
/** A long poll re-checks at least this often, so an injected clock that moves is noticed. */
const RECHECK_MS = 250;

/**
 * An SQS standard queue in this process, for the local platform's event source mappings and on-failure
 * destinations (the runtime never calls SQS itself). Messages are received in the order sent; receive counts,
 * visibility timeouts, receipt handles, retention and redrive to a dead-letter queue follow SQS.
 */
export function createQueue(options: CreateQueueOptions): Queue {
  const clock = options.clock ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const visibilityTimeoutSeconds = checkRange(
    "visibilityTimeoutSeconds",
    options.visibilityTimeoutSeconds ?? 30,
    0,
    43_200,
  );
  const retentionMs =
    checkRange("messageRetentionSeconds", options.messageRetentionSeconds ?? 345_600, 60, 1_209_600) * 1000;
  if (options.redrive) checkRange("redrive.maxReceiveCount", options.redrive.maxReceiveCount, 1, 1000);
  let messages: QueueMessage[] = options.persist ? options.persist.load().map((message) => ({ ...message })) : [];
  const wakers = new Set<() => void>();

  const save = () => options.persist?.save(messages.map((message) => ({ ...message })));
  const wake = () => {
    for (const waker of [...wakers]) waker();
  };
  const dropExpired = (now: number) => {
    const kept = messages.filter((message) => now - message.sentTimestamp < retentionMs);
    if (kept.length !== messages.length) {
      messages = kept;
      save();
    }
  };
  const inFlight = (handle: string, now: number) =>
    messages.find((message) => message.receiptHandle === handle && message.visibleAt > now);

  const take = (max: number): ReceivedMessage[] => {
    const now = clock();
    dropExpired(now);
    const taken: ReceivedMessage[] = [];
    let moved = false;
    for (const message of [...messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      if (options.redrive && message.receiveCount >= options.redrive.maxReceiveCount) {
        messages.splice(messages.indexOf(message), 1);
        options.redrive.deadLetterQueue.acceptDeadLetter(message, options.arn);
        moved = true;
        continue;
      }
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.receiptHandle = Buffer.from(`${message.messageId}:${newId()}`).toString("base64");
      message.visibleAt = now + visibilityTimeoutSeconds * 1000;
      taken.push(received(message));
    }
    if (taken.length > 0 || moved) save();
    return taken;
  };

  /** Until the next message becomes visible, capped: a long poll sleeps no longer than that. */
  const untilNextVisible = (): number => {
    const now = clock();
    const next = Math.min(...messages.map((message) => message.visibleAt));
    return Number.isFinite(next) ? Math.max(1, next - now) : RECHECK_MS;
  };

  return {
    arn: options.arn,
    url: options.url,
    send(body, attributes = {}) {
      if (typeof body !== "string" || body.length === 0)
        throw new Error(`Queue ${options.arn}: a message body must be a non-empty string.`);
      if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
        throw new Error(
          `Queue ${options.arn}: the body is ${Buffer.byteLength(body)} bytes; SQS takes at most ${MAX_BODY_BYTES}.`,
        );
      }
      const now = clock();
      const digest = md5OfMessageAttributes(attributes);
      const message: QueueMessage = {
        messageId: newId(),
        body,
        md5OfBody: md5OfBody(body),
        messageAttributes: { ...attributes },
        ...(digest ? { md5OfMessageAttributes: digest } : {}),
        sentTimestamp: now,
        senderId: options.senderId ?? "000000000000",
        receiveCount: 0,
        visibleAt: now,
      };
      messages.push(message);
      save();
      wake();
      return {
        messageId: message.messageId,
        md5OfBody: message.md5OfBody,
        ...(digest ? { md5OfMessageAttributes: digest } : {}),
      };
    },
    async receive(max = 1, waitMs = 0, { signal } = {}) {
      checkRange("receive max", max, 1, 10);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const taken = take(max);
        const left = deadline - Date.now();
        if (taken.length > 0 || left <= 0 || signal?.aborted) return taken;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            wakers.delete(done);
            signal?.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(left, untilNextVisible(), RECHECK_MS));
          wakers.add(done);
          signal?.addEventListener("abort", done, { once: true });
        });
      }
    },
    delete(receiptHandle) {
      const index = messages.findIndex((message) => message.receiptHandle === receiptHandle);
      if (index < 0) return false;
      messages.splice(index, 1);
      save();
      return true;
    },
    changeVisibility(receiptHandle, seconds) {
      checkRange("visibilityTimeoutSeconds", seconds, 0, 43_200);
      const now = clock();
      const message = inFlight(receiptHandle, now);
      if (!message) return false;
      message.visibleAt = now + seconds * 1000;
      save();
      wake();
      return true;
    },
    messages() {
      dropExpired(clock());
      return messages.map((message) => structuredClone(message));
    },
    counts() {
      const now = clock();
      dropExpired(now);
      const visible = messages.filter((message) => message.visibleAt <= now).length;
      return { visible, inFlight: messages.length - visible };
    },
    acceptDeadLetter(message, sourceArn) {
      const now = clock();
      // A fresh start in the dead-letter queue: no receipt handle, no receives yet; id, body and sent time stay.
      messages.push({
        messageId: message.messageId,
        body: message.body,
        md5OfBody: message.md5OfBody,
        messageAttributes: message.messageAttributes,
        ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
        sentTimestamp: message.sentTimestamp,
        senderId: message.senderId,
        receiveCount: 0,
        visibleAt: now,
        deadLetterQueueSourceArn: sourceArn,
      });
      save();
      wake();
    },
  };
}

function received(message: QueueMessage): ReceivedMessage {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle!,
    body: message.body,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: message.senderId,
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
      ...(message.deadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
    },
    messageAttributes: structuredClone(message.messageAttributes),
  };
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}; got ${value}.`);
  }
  return value;
}
