import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import type { Deployment, StatusHistoryEntry } from "../deployment";
import { ConflictError, isConflictError } from "../errors";
import { ACTIVE_STATUSES, allowedPredecessors, DEPLOYMENTS, IDEMPOTENCY, type DeploymentStatus } from "../schema";
import { idempotencyRecordKey } from "./idempotencyRecordKey";
import { decodeCursor, encodeCursor } from "./listCursor";
import type { RateLimiter } from "./rateLimiter";
import { buildUpdate } from "./updateExpression";

export interface DeploymentStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly deploymentsTable: string;
  /** Needed only by `create` with an idempotency key (the deploy function); other functions leave it out. */
  readonly idempotencyTable?: string;
  /** Stamps `updatedAt` and idempotency expiry. Default: the system clock. */
  readonly clock?: () => Date;
  /** Waits between attempts when two creates with the same key collide. Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Deployments a user may start per window (the deploy function's); absent = no per-user limit. */
  readonly rateLimiter?: RateLimiter;
}

export interface IdempotencyRequest {
  /** The client's Idempotency-Key header. */
  readonly key: string;
  /** A digest of the normalised request: the same key with another fingerprint is a conflict. */
  readonly fingerprint: string;
  /** How long the key is remembered. Default: 24 hours. */
  readonly ttlSeconds?: number;
}

/** The `idempotency` table's item. */
interface IdempotencyRecord {
  readonly key: string;
  /** Whose key it is, in plain text (the table key holds its hash). */
  readonly userId: string;
  readonly deploymentId: string;
  readonly fingerprint: string;
  readonly expiresAt: number;
}

export interface DeploymentPage {
  readonly items: Deployment[];
  /** Absent on the last page. */
  readonly nextCursor?: string;
}

const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** Two creates racing on one key: the loser retries and then sees the winner's record. */
const CREATE_ATTEMPTS = 5;

/**
 * The `deployments` table. Every write is conditional, so concurrent or repeated callers (a redelivered stream record,
 * a client retrying a POST) cannot create twice, move a deployment backwards or overwrite a later status.
 */
export class DeploymentStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly idempotencyTable: string | undefined;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly rateLimiter: RateLimiter | undefined;

  constructor(options: DeploymentStoreOptions) {
    this.client = options.client;
    this.table = options.deploymentsTable;
    this.idempotencyTable = options.idempotencyTable;
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.rateLimiter = options.rateLimiter;
  }

  /**
   * Stores a new deployment. With an idempotency key, the key's record and the deployment are written in one
   * transaction, so a key always points at a deployment that exists; a repeat with the same request returns that
   * deployment (`replayed`), a repeat with another request is a ConflictError.
   *
   * With a rate limiter, a new deployment first takes one from the user's limit (a RateLimitedError, and nothing
   * written, once it is used up). A replay is not counted: it is looked up before, and one found only while writing
   * (two requests racing with one key) gives back what it took.
   */
  async create(
    deployment: Deployment,
    idempotency?: IdempotencyRequest,
  ): Promise<{ deployment: Deployment; replayed: boolean }> {
    if (idempotency) {
      if (!this.idempotencyTable) {
        throw new Error("DeploymentStore needs idempotencyTable to create with an idempotency key");
      }
      const recordKey = idempotencyRecordKey(deployment.userId, idempotency.key);
      const earlier = await this.replay(this.idempotencyTable, recordKey, deployment.userId, idempotency);
      if (earlier) return { deployment: earlier, replayed: true };
    }
    const taken = await this.rateLimiter?.take(deployment.userId);
    try {
      const created = await this.write(withFirstHistoryEntry(deployment), idempotency);
      if (taken && created.replayed) await this.rateLimiter?.refund(taken);
      return created;
    } catch (error) {
      // A conflict wrote nothing: the deployment did not happen, so it does not count.
      if (taken && isConflictError(error)) await this.rateLimiter?.refund(taken);
      throw error;
    }
  }

  private async write(
    deployment: Deployment,
    idempotency: IdempotencyRequest | undefined,
  ): Promise<{ deployment: Deployment; replayed: boolean }> {
    if (!idempotency) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: deployment,
            ConditionExpression: "attribute_not_exists(#id)",
            ExpressionAttributeNames: { "#id": DEPLOYMENTS.hashKey },
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        // The SDK retries a put whose answer was lost; the retry then finds the first attempt's item. That is ours.
        const existing = await this.get(deployment.id, { consistent: true });
        if (existing && sameItem(existing, deployment)) return { deployment: existing, replayed: false };
        throw deploymentExists(deployment.id);
      }
      return { deployment, replayed: false };
    }

    const idempotencyTable = this.idempotencyTable;
    if (!idempotencyTable) throw new Error("DeploymentStore needs idempotencyTable to create with an idempotency key");
    const recordKey = idempotencyRecordKey(deployment.userId, idempotency.key);
    for (let attempt = 1; ; attempt++) {
      const nowSeconds = Math.floor(this.clock().getTime() / 1000);
      const record: IdempotencyRecord = {
        key: recordKey,
        userId: deployment.userId,
        deploymentId: deployment.id,
        fingerprint: idempotency.fingerprint,
        expiresAt: nowSeconds + (idempotency.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS),
      };
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: idempotencyTable,
                  Item: record,
                  // TTL deletes lazily (up to days late): an expired record is free to reuse.
                  ConditionExpression: "attribute_not_exists(#key) OR #expiresAt < :now",
                  ExpressionAttributeNames: { "#key": IDEMPOTENCY.hashKey, "#expiresAt": IDEMPOTENCY.ttlAttribute },
                  ExpressionAttributeValues: { ":now": nowSeconds },
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: deployment,
                  ConditionExpression: "attribute_not_exists(#id)",
                  ExpressionAttributeNames: { "#id": DEPLOYMENTS.hashKey },
                },
              },
            ],
          }),
        );
        return { deployment, replayed: false };
      } catch (error) {
        const [keyReason, deploymentReason] = cancellationReasons(error) ?? [];
        if (!keyReason && !deploymentReason) throw error;
        // The key first: if it is taken, its record says what this request gets, whatever else failed.
        if (keyReason === "ConditionalCheckFailed") {
          const replay = await this.replay(idempotencyTable, recordKey, deployment.userId, idempotency);
          if (replay) return { deployment: replay, replayed: true };
          // The record expired and vanished between our write and our read: try to claim the key again.
        } else if (deploymentReason === "ConditionalCheckFailed") {
          throw deploymentExists(deployment.id);
        }
        // Anything else is a TransactionConflict with a concurrent create of the same key, which retrying settles.
        if (attempt >= CREATE_ATTEMPTS) throw error;
        await this.sleep(20 * 2 ** attempt);
      }
    }
  }

  /** The deployment an earlier create with the same key made, or a ConflictError if that create asked for another. */
  private async replay(
    idempotencyTable: string,
    recordKey: string,
    userId: string,
    idempotency: IdempotencyRequest,
  ): Promise<Deployment | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: idempotencyTable, Key: { [IDEMPOTENCY.hashKey]: recordKey }, ConsistentRead: true }),
    );
    const record = Item as IdempotencyRecord | undefined;
    // TTL deletes lazily (up to days late): an expired record is as good as gone.
    if (!record || record.expiresAt < Math.floor(this.clock().getTime() / 1000)) return undefined;
    if (record.fingerprint !== idempotency.fingerprint) {
      throw new ConflictError(
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was already used with a different request body. Use a new Idempotency-Key for a new " +
          "deployment, or resend the original body to get the deployment it created.",
      );
    }
    const existing = await this.get(record.deploymentId, { consistent: true });
    // Written in the same transaction as the record, so it can only be missing if someone deleted it by hand.
    if (!existing)
      throw new Error(`idempotency record ${recordKey} points at missing deployment ${record.deploymentId}`);
    // Another user's deployment is never replayed, whatever led to the record.
    if (existing.userId !== userId) {
      throw new Error(`idempotency record ${recordKey} belongs to another user`);
    }
    return existing;
  }

  async get(id: string, options: { consistent?: boolean } = {}): Promise<Deployment | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { [DEPLOYMENTS.hashKey]: id }, ConsistentRead: options.consistent }),
    );
    return Item as Deployment | undefined;
  }

  /**
   * A user's deployments, newest first, through the `byUser` index. One item more than asked is read, so the last
   * page comes without a cursor instead of a cursor to an empty page.
   */
  async listByUser(userId: string, options: { limit: number; cursor?: string }): Promise<DeploymentPage> {
    const index = DEPLOYMENTS.byUserIndex;
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: "#user = :user",
        ExpressionAttributeNames: { "#user": index.hashKey },
        ExpressionAttributeValues: { ":user": userId },
        ScanIndexForward: false,
        Limit: options.limit + 1,
        ExclusiveStartKey: options.cursor === undefined ? undefined : decodeCursor(options.cursor, userId),
      }),
    );
    const found = (page.Items ?? []) as Deployment[];
    if (found.length > options.limit) {
      const items = found.slice(0, options.limit);
      return { items, nextCursor: encodeCursor(items[items.length - 1] as unknown as Record<string, unknown>) };
    }
    // Fewer than asked but a LastEvaluatedKey: DynamoDB stopped at its 1 MB page size, so there is more.
    return page.LastEvaluatedKey ? { items: found, nextCursor: encodeCursor(page.LastEvaluatedKey) } : { items: found };
  }

  /**
   * Moves a deployment to `to` if its current status may move there (see TRANSITIONS), writing `fields` with it.
   * Returns the deployment after the move, or undefined if it is missing or in a status that may not move to `to`.
   * `from` narrows the statuses the move may start from (a caller that only ever acts on some); `whenBuild` refuses
   * the move if the deployment records another build; `remove` erases fields the move makes untrue. The sparse index
   * keys follow the status (see INDEX_KEYS).
   *
   * The same write appends `{ status, at, reasonCode? }` to `history` (`list_append`), so the history cannot
   * disagree with the status and costs no round trip. It needs no cap: every entry is a move TRANSITIONS allows, and
   * its only cycle is the inspector's resume (PROCESSING → PROCESSING, once per attempt, which the stream mapping
   * bounds by `maximumRetryAttempts` and `maximumRecordAgeInSeconds` before the deployment is failed): about ten
   * entries of under 100 bytes each, against DynamoDB's 400 KB item.
   */
  async transition(
    id: string,
    to: DeploymentStatus,
    fields: Partial<Deployment> = {},
    options: {
      incrementAttempts?: boolean;
      from?: readonly DeploymentStatus[];
      whenBuild?: string;
      remove?: readonly (keyof Deployment)[];
    } = {},
  ): Promise<Deployment | undefined> {
    const from = allowedPredecessors(to).filter((status) => !options.from || options.from.includes(status));
    if (from.length === 0) return undefined;
    const now = this.clock().toISOString();
    const keys = indexKeysFor(to, now);
    const entry: StatusHistoryEntry = {
      status: to,
      at: now,
      ...(fields.statusReason ? { reasonCode: fields.statusReason.code } : {}),
    };
    const update = buildUpdate({ status: to, updatedAt: now, ...keys.set }, fields, {
      incrementAttempts: options.incrementAttempts,
      copy: keys.copy,
      remove: [...keys.remove, ...(options.remove ?? [])],
      append: { [HISTORY]: [entry] },
    });
    const allowed = from.map((_, i) => `:from${i}`);
    const build = options.whenBuild === undefined ? "" : " AND (attribute_not_exists(#build) OR #build = :build)";
    return this.conditionalUpdate(id, {
      ...update,
      ConditionExpression: `attribute_exists(#id) AND #current IN (${allowed.join(", ")})${build}`,
      ExpressionAttributeNames: {
        ...update.ExpressionAttributeNames,
        "#id": DEPLOYMENTS.hashKey,
        "#current": "status",
        ...(options.whenBuild === undefined ? {} : { "#build": "buildId" }),
      },
      ExpressionAttributeValues: {
        ...update.ExpressionAttributeValues,
        ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
        ...(options.whenBuild === undefined ? {} : { ":build": options.whenBuild }),
      },
    });
  }

  /**
   * Records a BUILDING deployment's progress (its build's phase, the logs link) if `phaseRank`/`phaseAt` are newer
   * than what is stored: events arrive out of order and more than once, and an older one must not move the phase
   * back. Also refreshes `activeAt`, so the reconciler looks first at builds it has heard nothing from for longest.
   * Undefined when the deployment is not BUILDING this build or already knows newer progress.
   */
  async recordProgress(
    id: string,
    buildId: string,
    progress: { phase: string; phaseRank: number; phaseAt: string; logsUrl?: string },
  ): Promise<Deployment | undefined> {
    const now = this.clock().toISOString();
    const update = buildUpdate(
      { updatedAt: now, [DEPLOYMENTS.activeIndex.rangeKey]: now },
      { phase: progress.phase, phaseRank: progress.phaseRank, phaseAt: progress.phaseAt, logsUrl: progress.logsUrl },
    );
    return this.conditionalUpdate(id, {
      ...update,
      ConditionExpression:
        "#current = :building AND #build = :build AND " +
        "(attribute_not_exists(#rank) OR #rank < :rank OR (#rank = :rank AND #at < :at))",
      ExpressionAttributeNames: {
        ...update.ExpressionAttributeNames,
        "#current": "status",
        "#build": "buildId",
        "#rank": "phaseRank",
        "#at": "phaseAt",
      },
      ExpressionAttributeValues: {
        ...update.ExpressionAttributeValues,
        ":building": "BUILDING",
        ":build": buildId,
        ":rank": progress.phaseRank,
        ":at": progress.phaseAt,
      },
    });
  }

  /** A user's QUEUED deployments, oldest first (the sparse `queuedByUser` index; strongly consistent reads follow). */
  async queuedByUser(userId: string, limit: number): Promise<Deployment[]> {
    const index = DEPLOYMENTS.queuedIndex;
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: "#user = :user",
        ExpressionAttributeNames: { "#user": index.hashKey },
        ExpressionAttributeValues: { ":user": userId },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (page.Items ?? []) as Deployment[];
  }

  /**
   * One page of deployments in an active status (QUEUED or BUILDING) whose last activity is before `before`, oldest
   * first: what the reconciler checks. `cursor` is the previous page's `nextCursor`.
   */
  async activeBefore(
    status: DeploymentStatus,
    before: string,
    options: { limit: number; cursor?: Record<string, unknown> },
  ): Promise<{ items: Deployment[]; nextCursor?: Record<string, unknown> }> {
    const index = DEPLOYMENTS.activeIndex;
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: "#status = :status AND #at < :before",
        ExpressionAttributeNames: { "#status": index.hashKey, "#at": index.rangeKey },
        ExpressionAttributeValues: { ":status": status, ":before": before },
        ScanIndexForward: true,
        Limit: options.limit,
        ExclusiveStartKey: options.cursor,
      }),
    );
    return {
      items: (page.Items ?? []) as Deployment[],
      ...(page.LastEvaluatedKey ? { nextCursor: page.LastEvaluatedKey } : {}),
    };
  }

  /** Records fields without a status change, only while the deployment is `whenStatus`; undefined otherwise. */
  async update(
    id: string,
    fields: Partial<Deployment>,
    options: { whenStatus: DeploymentStatus },
  ): Promise<Deployment | undefined> {
    const update = buildUpdate({ updatedAt: this.clock().toISOString() }, fields);
    return this.conditionalUpdate(id, {
      ...update,
      ConditionExpression: "attribute_exists(#id) AND #current = :when",
      ExpressionAttributeNames: {
        ...update.ExpressionAttributeNames,
        "#id": DEPLOYMENTS.hashKey,
        "#current": "status",
      },
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ":when": options.whenStatus },
    });
  }

  private async conditionalUpdate(
    id: string,
    expression: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<Deployment | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [DEPLOYMENTS.hashKey]: id },
          ...expression,
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes as Deployment;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}

/** The attribute listing the statuses a deployment entered (Deployment.history). */
const HISTORY = "history";

/** A new deployment's item: its history starts with the status it is created in, at its creation time. */
export function withFirstHistoryEntry(deployment: Deployment): Deployment {
  return { ...deployment, [HISTORY]: [{ status: deployment.status, at: deployment.createdAt }] };
}

/**
 * The sparse index keys a move to `to` writes: an active status (QUEUED, BUILDING) sets `activeStatus`/`activeAt`,
 * QUEUED also copies `userId` to `queuedUserId`; any other status removes what it does not keep. Derived from
 * ACTIVE_STATUSES, so a new status cannot be forgotten here.
 */
export function indexKeysFor(
  to: DeploymentStatus,
  now: string,
): { set: Record<string, string>; copy: Record<string, string>; remove: string[] } {
  const active = DEPLOYMENTS.activeIndex;
  const queued = DEPLOYMENTS.queuedIndex;
  if (!ACTIVE_STATUSES.includes(to))
    return { set: {}, copy: {}, remove: [active.hashKey, active.rangeKey, queued.hashKey] };
  const set = { [active.hashKey]: to, [active.rangeKey]: now };
  return to === "QUEUED"
    ? { set, copy: { [queued.hashKey]: DEPLOYMENTS.byUserIndex.hashKey }, remove: [] }
    : { set, copy: {}, remove: [queued.hashKey] };
}

/** SDK errors are told apart by name: `instanceof` does not survive Pulumi's closure serialization. */
function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/** The per-item reason codes of a cancelled transaction, in TransactItems order; undefined for any other error. */
function cancellationReasons(error: unknown): (string | undefined)[] | undefined {
  const e = error as { name?: unknown; CancellationReasons?: { Code?: string }[] } | null;
  if (e?.name !== "TransactionCanceledException" || !Array.isArray(e.CancellationReasons)) return undefined;
  return e.CancellationReasons.map((reason) => (reason.Code === "None" ? undefined : reason.Code));
}

/** Whether a stored item is exactly `deployment` as written (undefined fields are not stored). */
function sameItem(stored: Deployment, deployment: Deployment): boolean {
  const canonical = (value: object) =>
    JSON.stringify(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  return canonical(stored) === canonical(deployment);
}

/** A random UUID collided, or a caller reused an id: never overwrite a deployment. */
function deploymentExists(id: string) {
  return new ConflictError("DEPLOYMENT_EXISTS", `A deployment with id ${id} already exists; retry to get a new id.`);
}
