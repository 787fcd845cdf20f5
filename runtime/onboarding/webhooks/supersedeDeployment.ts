import { UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { StatusReason } from "../../deployment";
import { DEPLOYMENTS } from "../../schema";

/**
 * Ends a push deployment that a newer push replaced, only while it is still PENDING (not yet claimed by the
 * inspector, so no build has started): the same conditional write the store's transitions use, kept here because
 * PENDING → FAILED for this reason is the only move the webhook makes. True when it was skipped.
 */
export function createSupersede(client: DynamoDBDocumentClient, table: string, clock: () => Date = () => new Date()) {
  return async (id: string, reason: StatusReason): Promise<boolean> => {
    try {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { [DEPLOYMENTS.hashKey]: id },
          UpdateExpression: "SET #s = :failed, #r = :reason, #u = :now",
          ConditionExpression: "attribute_exists(#id) AND #s = :pending",
          ExpressionAttributeNames: {
            "#id": DEPLOYMENTS.hashKey,
            "#s": "status",
            "#r": "statusReason",
            "#u": "updatedAt",
          },
          ExpressionAttributeValues: {
            ":failed": "FAILED",
            ":pending": "PENDING",
            ":reason": reason,
            ":now": clock().toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  };
}
