// DynamoDB Local is shared by the tests and the local platform (`npm start`); tests start private in-memory ones.
export { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../local/platform/dynamodbLocal";

import type { TestFn } from "ava";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startDynamoDbLocal as start, type DynamoDbLocal as Local } from "../../local/platform/dynamodbLocal";
import { localDocumentClient } from "./tables";

/** One private DynamoDB Local per test file, with a document client, started before and stopped after the tests. */
export function useDynamoDbLocal(test: TestFn<{ local: Local; client: DynamoDBDocumentClient }>): void {
  test.before(async (t) => {
    const local = await start();
    t.log(`DynamoDB Local answered after ${local.startupMs} ms`);
    t.context = { local, client: localDocumentClient(local.endpoint) };
  });
  test.after.always(async (t) => {
    t.context.client?.destroy();
    await t.context.local?.stop();
  });
}
