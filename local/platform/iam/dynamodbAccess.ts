/**
 * Which IAM actions on which resources a DynamoDB or DynamoDB Streams request needs, read from its `X-Amz-Target`
 * and JSON body — the table the proxy consults before it forwards anything. Pure: table ARNs come from the caller
 * and stream ARNs of shard iterators from what the proxy has seen pass.
 */

export interface AccessCheck {
  /** `dynamodb:GetItem` */
  readonly action: string;
  /** An ARN, or `*` for actions without a resource. */
  readonly resource: string;
}

export interface DynamoDbAccess {
  /** `dynamodb:GetItem`, for logs. */
  readonly operation: string;
  /** Every one must be allowed; any denial refuses the whole request (so a transaction is all or nothing). */
  readonly checks: readonly AccessCheck[];
  /** GetShardIterator and GetRecords: the stream whose iterators the answer carries, for the proxy to remember. */
  readonly iteratorStream?: string;
  /** Why a check could only be made against `*` (an unknown iterator, an unreadable body), for logs. */
  readonly note?: string;
}

export interface DynamoDbAccessResolvers {
  /** A table name → its ARN as the endpoint reports it (DynamoDB Local: `arn:aws:dynamodb:ddblocal:000000000000:table/<name>`). */
  readonly resolveTableArn: (tableName: string) => string;
  /** A shard iterator → the stream it was issued for, if the proxy has seen it issued. */
  readonly streamOfIterator: (iterator: string) => string | undefined;
}

type Input = Record<string, unknown>;
/** `operation` is the IAM action named after the operation itself: `dynamodb:DescribeTable`. */
type Rule = (
  input: Input,
  resolvers: DynamoDbAccessResolvers,
  operation: string,
) => Omit<DynamoDbAccess, "operation"> | AccessCheck[];

/** DynamoDB Local's ARNs: region `ddblocal`, account `000000000000` (what DescribeTable reports as TableArn). */
export const dynamoDbLocalTableArn = (tableName: string) => `arn:aws:dynamodb:ddblocal:000000000000:table/${tableName}`;

const text = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);
const record = (value: unknown): Input | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Input) : undefined;

/** TableName may also be a table's ARN (DynamoDB accepts both). */
const tableArn = (name: string, resolvers: DynamoDbAccessResolvers) =>
  name.startsWith("arn:") ? name : resolvers.resolveTableArn(name);

/** Operations that name no resource: IAM checks them against `*`. */
const unscoped =
  (operation: string): Rule =>
  () => [{ action: `dynamodb:${operation}`, resource: "*" }];

/** Query and Scan of an index are authorized on the index's ARN, not the table's. */
const indexed =
  (operation: string): Rule =>
  (input, resolvers) => {
    const table = text(input.TableName);
    if (!table) return [];
    const index = text(input.IndexName);
    const arn = tableArn(table, resolvers);
    return [{ action: `dynamodb:${operation}`, resource: index ? `${arn}/index/${index}` : arn }];
  };

/** Each part of a transaction is authorized as the single-item action it performs. */
const TRANSACT_WRITE_ACTIONS: Readonly<Record<string, string>> = {
  Put: "dynamodb:PutItem",
  Update: "dynamodb:UpdateItem",
  Delete: "dynamodb:DeleteItem",
  ConditionCheck: "dynamodb:ConditionCheckItem",
};
const TRANSACT_GET_ACTIONS: Readonly<Record<string, string>> = { Get: "dynamodb:GetItem" };

const transaction =
  (actions: Readonly<Record<string, string>>): Rule =>
  (input, resolvers) => {
    const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
    return items.flatMap((item: unknown) =>
      Object.entries(record(item) ?? {}).flatMap(([part, body]) => {
        const action = actions[part];
        const table = text(record(body)?.TableName);
        return action && table ? [{ action, resource: tableArn(table, resolvers) }] : [];
      }),
    );
  };

// A batch is authorized as the batch action on each table it names, whatever its requests put or delete (unlike a
// transaction, whose parts are checked as PutItem, DeleteItem…): the Service Authorization Reference maps the
// BatchWriteItem operation to the IAM action dynamodb:BatchWriteItem only, and BatchGetItem to dynamodb:BatchGetItem.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
const batchWrite: Rule = (input, resolvers) =>
  Object.keys(record(input.RequestItems) ?? {}).map((table) => ({
    action: "dynamodb:BatchWriteItem",
    resource: tableArn(table, resolvers),
  }));

const batchGet: Rule = (input, resolvers) =>
  Object.keys(record(input.RequestItems) ?? {}).map((table) => ({
    action: "dynamodb:BatchGetItem",
    resource: tableArn(table, resolvers),
  }));

/** DynamoDB operations that do not follow the default rule (TableName, else ResourceArn, else `*`). */
const DYNAMODB_RULES: Readonly<Record<string, Rule>> = {
  Query: indexed("Query"),
  Scan: indexed("Scan"),
  TransactWriteItems: transaction(TRANSACT_WRITE_ACTIONS),
  TransactGetItems: transaction(TRANSACT_GET_ACTIONS),
  BatchWriteItem: batchWrite,
  BatchGetItem: batchGet,
  ListTables: unscoped("ListTables"),
  DescribeLimits: unscoped("DescribeLimits"),
  DescribeEndpoints: unscoped("DescribeEndpoints"),
};

const streamArnOf = (input: Input) => text(input.StreamArn) ?? "*";

const STREAMS_RULES: Readonly<Record<string, Rule>> = {
  DescribeStream: (input) => [{ action: "dynamodb:DescribeStream", resource: streamArnOf(input) }],
  GetShardIterator: (input) => {
    const stream = streamArnOf(input);
    return {
      checks: [{ action: "dynamodb:GetShardIterator", resource: stream }],
      ...(stream !== "*" ? { iteratorStream: stream } : {}),
    };
  },
  // ListStreams has no resource-level permissions: IAM checks it against `*` whatever table it names
  // (Service Authorization Reference, Amazon DynamoDB: ListStreams has no resource type).
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
  ListStreams: unscoped("ListStreams"),
  // GetRecords carries only an iterator. One the proxy did not see issued is checked against `*`, which only the
  // administrator (or a role allowed every stream) passes: a role cannot read a stream with a forged iterator.
  GetRecords: (input, resolvers) => {
    const iterator = text(input.ShardIterator);
    const stream = iterator ? resolvers.streamOfIterator(iterator) : undefined;
    if (!stream) {
      return {
        checks: [{ action: "dynamodb:GetRecords", resource: "*" }],
        note: "shard iterator not issued through this proxy (unknown, forged or forgotten)",
      };
    }
    return { checks: [{ action: "dynamodb:GetRecords", resource: stream }], iteratorStream: stream };
  },
};

/** The JSON protocols DynamoDB Local answers on one port, by `X-Amz-Target` prefix. */
const SERVICES: Readonly<Record<string, { readonly rules: Readonly<Record<string, Rule>>; readonly fallback: Rule }>> =
  {
    DynamoDB_20120810: {
      rules: DYNAMODB_RULES,
      fallback: (input, resolvers, operation) => {
        const table = text(input.TableName);
        return [{ action: operation, resource: table ? tableArn(table, resolvers) : (text(input.ResourceArn) ?? "*") }];
      },
    },
    DynamoDBStreams_20120810: {
      rules: STREAMS_RULES,
      fallback: (_input, _resolvers, operation) => [{ action: operation, resource: "*" }],
    },
  };

/**
 * The checks a request needs. `body` is the parsed JSON, or undefined when it could not be read: then the
 * operation is checked against `*`. An operation without a rule (PartiQL, backups, tags…) is `dynamodb:<Op>` on its
 * TableName, ResourceArn or `*`. Returns undefined for a request that is not a DynamoDB call at all (no target).
 */
export function dynamodbAccess(
  target: string | undefined,
  body: unknown,
  resolvers: DynamoDbAccessResolvers,
): DynamoDbAccess | undefined {
  if (!target) return undefined;
  const dot = target.lastIndexOf(".");
  const prefix = dot === -1 ? "" : target.slice(0, dot);
  const name = target.slice(dot + 1);
  const operation = `dynamodb:${name}`;
  const service = SERVICES[prefix];
  const input = record(body);
  if (!service || !input) {
    return {
      operation,
      checks: [{ action: operation, resource: "*" }],
      note: service ? "request body is not a JSON object" : `unknown target prefix ${prefix}`,
    };
  }
  const rule = service.rules[name] ?? service.fallback;
  const outcome = rule(input, resolvers, operation);
  const { checks, ...rest } = Array.isArray(outcome) ? { checks: outcome } : outcome;
  // A request whose parts name nothing (an empty transaction) still needs the operation itself.
  const needed = checks.length > 0 ? checks : [{ action: operation, resource: "*" }];
  return { operation, checks: unique(needed), ...rest };
}

const unique = (checks: readonly AccessCheck[]): AccessCheck[] =>
  checks.filter(
    (check, index) =>
      checks.findIndex((other) => other.action === check.action && other.resource === check.resource) === index,
  );
