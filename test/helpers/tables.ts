import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../runtime/aws";
import { deploymentAttributes, deploymentIndexes } from "../../components/deploymentTable";
import { BUILD_SLOTS, DEPLOYMENTS, IDEMPOTENCY, INSTALLATIONS, RATE_LIMITS } from "../../runtime/schema";
import { LOCAL_AWS } from "./dynamodbLocal";

export interface TableNames {
  readonly deployments: string;
  readonly installations: string;
  readonly idempotency: string;
  readonly rateLimits: string;
  readonly buildSlots: string;
}

/**
 * Creates Slipway's four tables in DynamoDB Local from the same constants the Pulumi component uses. Names get a
 * random suffix unless given, so every test (and every test file sharing a `-sharedDb` instance) has its own.
 */
export async function createTables(endpoint: string, names: Partial<TableNames> = {}): Promise<TableNames> {
  const suffix = randomUUID().slice(0, 8);
  const tables: TableNames = {
    deployments: names.deployments ?? `deployments-${suffix}`,
    installations: names.installations ?? `installations-${suffix}`,
    idempotency: names.idempotency ?? `idempotency-${suffix}`,
    rateLimits: names.rateLimits ?? `rate-limits-${suffix}`,
    buildSlots: names.buildSlots ?? `build-slots-${suffix}`,
  };
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  try {
    await Promise.all([
      client.send(
        new CreateTableCommand({
          TableName: tables.deployments,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: DEPLOYMENTS.hashKey, KeyType: "HASH" }],
          // The same attributes and indexes as the component declares.
          AttributeDefinitions: deploymentAttributes().map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
          GlobalSecondaryIndexes: deploymentIndexes().map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.hashKey, KeyType: "HASH" as const },
              { AttributeName: index.rangeKey, KeyType: "RANGE" as const },
            ],
            Projection: { ProjectionType: "ALL" as const },
          })),
          StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
        }),
      ),
      client.send(
        new CreateTableCommand({
          TableName: tables.installations,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [
            { AttributeName: INSTALLATIONS.hashKey, KeyType: "HASH" },
            { AttributeName: INSTALLATIONS.rangeKey, KeyType: "RANGE" },
          ],
          AttributeDefinitions: [
            { AttributeName: INSTALLATIONS.hashKey, AttributeType: "S" },
            { AttributeName: INSTALLATIONS.rangeKey, AttributeType: "N" },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: INSTALLATIONS.byInstallationIndex.name,
              KeySchema: [{ AttributeName: INSTALLATIONS.byInstallationIndex.hashKey, KeyType: "HASH" }],
              Projection: { ProjectionType: "ALL" },
            },
          ],
        }),
      ),
      client.send(
        new CreateTableCommand({
          TableName: tables.buildSlots,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: BUILD_SLOTS.hashKey, KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: BUILD_SLOTS.hashKey, AttributeType: "S" }],
        }),
      ),
      client.send(
        new CreateTableCommand({
          TableName: tables.idempotency,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: IDEMPOTENCY.hashKey, KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: IDEMPOTENCY.hashKey, AttributeType: "S" }],
        }),
      ),
      client.send(
        new CreateTableCommand({
          TableName: tables.rateLimits,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: RATE_LIMITS.hashKey, KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: RATE_LIMITS.hashKey, AttributeType: "S" }],
        }),
      ),
    ]);
    await Promise.all(
      Object.values(tables).map((TableName) =>
        waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 }, { TableName }),
      ),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tables.idempotency,
        TimeToLiveSpecification: { AttributeName: IDEMPOTENCY.ttlAttribute, Enabled: true },
      }),
    );
  } finally {
    client.destroy();
  }
  return tables;
}

/** The document client the runtime would build, pointed at DynamoDB Local. */
export function localDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient({ dynamodbEndpoint: endpoint }, LOCAL_AWS);
}

/** Every item in a table, for tests that check what was (not) written. */
export async function scanAll(client: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
