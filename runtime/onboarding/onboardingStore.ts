import { randomBytes } from "node:crypto";
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ONBOARDING } from "../schema";

export interface OnboardingStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
  /** Default: the system clock. */
  readonly clock?: () => Date;
  /** Default: 32 random bytes, base64url (GitHub echoes `state` back untouched). */
  readonly randomState?: () => string;
}

/** How long an install `state` stays usable: the user installs the App and comes back within minutes. */
export const STATE_TTL_SECONDS = 10 * 60;
/** GitHub redelivers a webhook on request for up to 3 days; a delivery id is remembered a little longer. */
export const DELIVERY_TTL_SECONDS = 4 * 24 * 60 * 60;

const isConditionFailure = (error: unknown) =>
  (error as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";

/**
 * The `onboarding` table: single-use install `state` values bound to the user they were issued to, and the webhook
 * deliveries already claimed. DynamoDB TTL deletes expired items only within days, so every condition also compares
 * `expiresAt` with the clock.
 */
export class OnboardingStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: () => Date;
  private readonly randomState: () => string;

  constructor(options: OnboardingStoreOptions) {
    this.client = options.client;
    this.table = options.table;
    this.clock = options.clock ?? (() => new Date());
    this.randomState = options.randomState ?? (() => randomBytes(32).toString("base64url"));
  }

  private nowSeconds(): number {
    return Math.floor(this.clock().getTime() / 1000);
  }

  /** A fresh `state` for the user's trip to GitHub's install page. */
  async issueState(userId: string): Promise<{ state: string; expiresAt: number }> {
    const state = this.randomState();
    const expiresAt = this.nowSeconds() + STATE_TTL_SECONDS;
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { [ONBOARDING.hashKey]: `state#${state}`, userId, [ONBOARDING.ttlAttribute]: expiresAt },
        ConditionExpression: "attribute_not_exists(#k)",
        ExpressionAttributeNames: { "#k": ONBOARDING.hashKey },
      }),
    );
    return { state, expiresAt };
  }

  /**
   * Uses the state up: true when it was issued to this user, has not expired and was not used before. A state
   * issued to someone else is left alone (it stays theirs to use).
   */
  async consumeState(state: string, userId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { [ONBOARDING.hashKey]: `state#${state}` },
          ConditionExpression: "attribute_exists(#k) AND #u = :u AND #e > :now",
          ExpressionAttributeNames: { "#k": ONBOARDING.hashKey, "#u": "userId", "#e": ONBOARDING.ttlAttribute },
          ExpressionAttributeValues: { ":u": userId, ":now": this.nowSeconds() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Claims a webhook delivery: true the first time, false for a redelivery already processed or in progress. */
  async claimDelivery(deliveryId: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            [ONBOARDING.hashKey]: `delivery#${deliveryId}`,
            [ONBOARDING.ttlAttribute]: this.nowSeconds() + DELIVERY_TTL_SECONDS,
          },
          ConditionExpression: "attribute_not_exists(#k) OR #e <= :now",
          ExpressionAttributeNames: { "#k": ONBOARDING.hashKey, "#e": ONBOARDING.ttlAttribute },
          ExpressionAttributeValues: { ":now": this.nowSeconds() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Releases a claim whose processing failed, so GitHub's redelivery is processed. */
  async releaseDelivery(deliveryId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: { [ONBOARDING.hashKey]: `delivery#${deliveryId}` } }),
    );
  }
}
