import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { ONBOARDING, PROJECTS } from "../../runtime/schema";
import { LOCAL_AWS } from "./dynamodbLocal";

/** Creates the `onboarding` table (states and deliveries) in DynamoDB Local from the component's constants. */
export async function createOnboardingTable(endpoint: string): Promise<string> {
  const TableName = `onboarding-${randomUUID().slice(0, 8)}`;
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: ONBOARDING.hashKey, KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: ONBOARDING.hashKey, AttributeType: "S" }],
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 }, { TableName });
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName,
        TimeToLiveSpecification: { AttributeName: ONBOARDING.ttlAttribute, Enabled: true },
      }),
    );
  } finally {
    client.destroy();
  }
  return TableName;
}

/** Creates the `projects` table with its `byUser` index. */
export async function createProjectsTable(endpoint: string): Promise<string> {
  const TableName = `projects-${randomUUID().slice(0, 8)}`;
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: PROJECTS.hashKey, KeyType: "HASH" },
          { AttributeName: PROJECTS.rangeKey, KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: PROJECTS.hashKey, AttributeType: "S" },
          { AttributeName: PROJECTS.rangeKey, AttributeType: "S" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: PROJECTS.byUserIndex.name,
            KeySchema: [
              { AttributeName: PROJECTS.byUserIndex.hashKey, KeyType: "HASH" },
              { AttributeName: PROJECTS.byUserIndex.rangeKey, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 }, { TableName });
  } finally {
    client.destroy();
  }
  return TableName;
}
