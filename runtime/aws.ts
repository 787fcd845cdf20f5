import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { EnvName } from "./environment";

/** What `readEnvironment` returns; only the endpoint overrides matter here. */
type Endpoints = Partial<Record<EnvName, string>>;

/**
 * The DynamoDB document client every handler uses. In AWS `SLIPWAY_DYNAMODB_ENDPOINT` is unset and the SDK finds
 * region and credentials itself; locally it points the client at DynamoDB Local. Built inside handler factories
 * (once per container), never at module level: a client captured in a closure cannot be serialized.
 *
 * `removeUndefinedValues`: optional fields of a Deployment are often `undefined`; they are simply not stored.
 * `config` is for callers that must say more (tests pass a region and dummy credentials for DynamoDB Local).
 */
export function createDocumentClient(env: Endpoints, config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const endpoint = env.dynamodbEndpoint ? { endpoint: env.dynamodbEndpoint } : {};
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...endpoint, ...config }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
