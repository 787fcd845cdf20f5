import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { TestFn } from "ava";
import { startDynamoDbLocal, type DynamoDbLocal } from "../../local/platform/dynamodbLocal";
import { localDocumentClient } from "./tables";

// DynamoDB Local is shared by the tests and the local platform (`npm start`); tests start private in-memory ones.
export { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../local/platform/dynamodbLocal";

/** One private DynamoDB Local per test file, with a document client, started before and stopped after the tests. */
export function useDynamoDbLocal(test: TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>): void {
  test.before(async (t) => {
    const local = await startDynamoDbLocal();
    t.log(`DynamoDB Local answered after ${local.startupMs} ms`);
    t.context = { local, client: localDocumentClient(local.endpoint) };
  });
  test.after.always(async (t) => {
    t.context.client?.destroy();
    await t.context.local?.stop();
  });
}
