import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { TestFn } from "ava";
import type { DynamoDbLocal } from "../../local/platform/dynamodbLocal";
import { sharedDynamoDbLocal } from "./sharedDynamoDbLocal";
import { localDocumentClient } from "./tables";

// DynamoDB Local is shared by the tests and the local platform (`npm start`). Tests use the run's shared in-memory
// one; a test that kills or restarts it starts its own.
export { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../local/platform/dynamodbLocal";
export { sharedDynamoDbLocal } from "./sharedDynamoDbLocal";

/** The run's shared DynamoDB Local for a test file, with a document client closed after the tests. */
export function useDynamoDbLocal(test: TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>): void {
  test.before(async (t) => {
    const local = await sharedDynamoDbLocal();
    t.log(`DynamoDB Local answered after ${local.startupMs} ms`);
    t.context = { local, client: localDocumentClient(local.endpoint) };
  });
  test.after.always(async (t) => {
    t.context.client?.destroy();
    await t.context.local?.stop();
  });
}
