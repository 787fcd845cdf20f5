import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { BUILD_SLOTS } from "../schema";

export interface BuildSlotsOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
}

/** One user's slots: the deployments whose builds count against their limit now. */
export interface SlotHolder {
  readonly userId: string;
  readonly deploymentIds: readonly string[];
}

/**
 * The per-user limit on builds running at once, as a DynamoDB string set per user. A deployment takes a slot before
 * its build starts and gives it back when it ends. Both are single conditional writes on one item, so two deployments
 * racing for the last slot cannot both get it, and both are idempotent (set semantics): a retried acquire by the same
 * deployment is not a second slot, a repeated release frees nothing more.
 */
export class BuildSlots {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: BuildSlotsOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  /** Takes a slot for the deployment if the user holds fewer than `limit` (or already holds this one). */
  async acquire(userId: string, deploymentId: string, limit: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [BUILD_SLOTS.hashKey]: userId },
          UpdateExpression: "ADD #ids :id",
          ConditionExpression: "attribute_not_exists(#ids) OR size(#ids) < :limit OR contains(#ids, :one)",
          ExpressionAttributeNames: { "#ids": BUILD_SLOTS.setAttribute },
          ExpressionAttributeValues: { ":id": new Set([deploymentId]), ":one": deploymentId, ":limit": limit },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Gives the deployment's slot back (nothing happens if it holds none). */
  async release(userId: string, deploymentId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [BUILD_SLOTS.hashKey]: userId },
          UpdateExpression: "DELETE #ids :id",
          // Without it, DELETE on a user with no item would create an empty one.
          ConditionExpression: "attribute_exists(#user)",
          ExpressionAttributeNames: { "#ids": BUILD_SLOTS.setAttribute, "#user": BUILD_SLOTS.hashKey },
          ExpressionAttributeValues: { ":id": new Set([deploymentId]) },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /** Every user holding a slot, for the reconciler's sweep of slots whose deployment has ended. One small item per user. */
  async holders(): Promise<SlotHolder[]> {
    const holders: SlotHolder[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const ids = item[BUILD_SLOTS.setAttribute] as Set<string> | undefined;
        if (ids && ids.size > 0) holders.push({ userId: String(item[BUILD_SLOTS.hashKey]), deploymentIds: [...ids] });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return holders;
  }
}

function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}
