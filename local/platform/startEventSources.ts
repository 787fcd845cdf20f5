import * as fs from "node:fs";
import * as path from "node:path";
import { DynamoDBStreamsClient, ListStreamsCommand } from "@aws-sdk/client-dynamodb-streams";
import type { Logger } from "../../runtime/log";
import { createFileCheckpoints } from "./eventSources/checkpoints";
import { createQueue, type Queue, type QueueMessage } from "./eventSources/sqsQueue";
import { startSqsMapping } from "./eventSources/sqsMapping";
import { startStreamMapping } from "./eventSources/streamMapping";
import type { PrincipalRegistry } from "./iam/principals";
import type { LocalFunction } from "./lambda/startFunction";
import type { LocalResources } from "./provisioner";

export interface EventSources {
  readonly queues: ReadonlyMap<string, Queue>;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface EventSourcesOptions {
  readonly resources: LocalResources;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly iam: PrincipalRegistry;
  readonly stateDir: string;
  /** Where stream readers reach DynamoDB Streams: the IAM-enforcing proxy, so each reads with its function's role. */
  readonly streamsEndpoint: string;
  readonly region: string;
  readonly logger: Logger;
}

/** A queue's messages kept in `<stateDir>/queues/<name>.json` across restarts. */
function persistedQueue(stateDir: string, name: string) {
  const file = path.join(stateDir, "queues", `${name}.json`);
  return {
    load: (): QueueMessage[] =>
      fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as QueueMessage[]) : [],
    save: (messages: QueueMessage[]) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(messages));
    },
  };
}

/** Creates the stack's SQS queues, dead-letter queues before the queues that redrive to them. */
function createQueues(resources: LocalResources, stateDir: string): Map<string, Queue> {
  const queues = new Map<string, Queue>();
  const declared = [...resources.queues.values()];
  const redriveOf = (inputs: Record<string, any>) =>
    inputs.redrivePolicy
      ? (JSON.parse(inputs.redrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number })
      : undefined;
  const ordered = [...declared.filter((q) => !redriveOf(q.inputs)), ...declared.filter((q) => redriveOf(q.inputs))];
  for (const queue of ordered) {
    const redrive = redriveOf(queue.inputs);
    const deadLetterQueue = redrive ? queues.get(redrive.deadLetterTargetArn) : undefined;
    queues.set(
      queue.arn,
      createQueue({
        arn: queue.arn,
        url: queue.url,
        ...(queue.inputs.visibilityTimeoutSeconds
          ? { visibilityTimeoutSeconds: queue.inputs.visibilityTimeoutSeconds }
          : {}),
        ...(queue.inputs.messageRetentionSeconds
          ? { messageRetentionSeconds: queue.inputs.messageRetentionSeconds }
          : {}),
        ...(redrive && deadLetterQueue
          ? { redrive: { deadLetterQueue, maxReceiveCount: redrive.maxReceiveCount } }
          : {}),
        persist: persistedQueue(stateDir, queue.name),
      }),
    );
  }
  return queues;
}

/**
 * Starts the stack's event source mappings as Lambda runs them: stream mappings read the table's stream with the
 * function's own role (through the IAM proxy) and send what they give up on to the on-failure queue — if that role
 * may send to it; SQS mappings poll their queue if the role may receive from it.
 */
export async function startEventSources(options: EventSourcesOptions): Promise<EventSources> {
  const { resources, functions, iam, logger } = options;
  const queues = createQueues(resources, options.stateDir);
  const running: { idle(): Promise<void>; stop(): Promise<void> }[] = [];
  for (const mapping of resources.mappings) {
    const fn = functions.get(String(mapping.functionName));
    const declared = fn ? resources.functions.get(fn.name) : undefined;
    if (!fn || !declared) {
      logger.error("event source mapping names an unknown function", { functionName: mapping.functionName });
      continue;
    }
    const credentials = iam.credentialsFor(declared.roleName);
    const eventSourceArn = String(mapping.eventSourceArn);
    const queue = queues.get(eventSourceArn);
    if (queue) {
      // Lambda reads the queue's attributes with the function's role when it creates the mapping, and refuses to
      // create it if the role cannot (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
      const attributes = await iam.authorize(credentials.accessKeyId, "sqs:GetQueueAttributes", eventSourceArn);
      if (!attributes.allowed) {
        logger.error("event source mapping not started: the function's role cannot read the queue", {
          reason: attributes.message,
        });
        continue;
      }
      running.push(
        startSqsMapping({
          queue,
          ...(mapping.batchSize ? { batchSize: mapping.batchSize } : {}),
          ...(mapping.functionResponseTypes ? { functionResponseTypes: mapping.functionResponseTypes } : {}),
          invoke: (event) => fn.invoke(event),
          authorize: async (action) => (await iam.authorize(credentials.accessKeyId, action, eventSourceArn)).allowed,
          logger,
        }),
      );
      continue;
    }
    const table = [...resources.tables.values()].find((t) => t.streamArn === eventSourceArn);
    if (!table) {
      logger.error("event source mapping reads a source the local platform does not have", { eventSourceArn });
      continue;
    }
    const streams = new DynamoDBStreamsClient({
      endpoint: options.streamsEndpoint,
      region: options.region,
      credentials,
    });
    // Lambda lists the table's streams with the function's role when it creates the mapping, and refuses to create
    // it if the role cannot ("Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream,
    // and ListStreams Actions on your stream in IAM"): https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
    try {
      await streams.send(new ListStreamsCommand({ TableName: table.name }));
    } catch (error) {
      logger.error("event source mapping not started: the function's role cannot list the table's streams", {
        functionName: declared.name,
        error: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    const destinationArn: string | undefined = mapping.destinationConfig?.onFailure?.destinationArn;
    running.push(
      await startStreamMapping({
        streams,
        streamArn: eventSourceArn,
        tableName: table.name,
        mapping: {
          startingPosition: mapping.startingPosition ?? "LATEST",
          ...(mapping.batchSize ? { batchSize: mapping.batchSize } : {}),
          ...(mapping.filterCriteria ? { filterCriteria: mapping.filterCriteria } : {}),
          ...(mapping.functionResponseTypes ? { functionResponseTypes: mapping.functionResponseTypes } : {}),
          ...(mapping.bisectBatchOnFunctionError !== undefined
            ? { bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError }
            : {}),
          ...(mapping.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: mapping.maximumRetryAttempts } : {}),
          ...(mapping.maximumRecordAgeInSeconds !== undefined
            ? { maximumRecordAgeInSeconds: mapping.maximumRecordAgeInSeconds }
            : {}),
          ...(mapping.maximumBatchingWindowInSeconds !== undefined
            ? { maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds }
            : {}),
        },
        invoke: (event) => fn.invoke(event),
        ...(destinationArn
          ? {
              destinationArn,
              sendOnFailure: async (arn: string, message: unknown) => {
                const send = await iam.authorize(credentials.accessKeyId, "sqs:SendMessage", arn);
                if (!send.allowed) throw new Error(send.message);
                const target = queues.get(arn);
                if (!target) throw new Error(`no local queue ${arn}`);
                target.send(JSON.stringify(message));
              },
            }
          : {}),
        functionArn: declared.arn,
        checkpoints: createFileCheckpoints(path.join(options.stateDir, "checkpoints", `${declared.name}.json`)),
        logger,
        region: options.region,
      }),
    );
  }
  return {
    queues,
    async idle() {
      await Promise.all(running.map((source) => source.idle()));
    },
    async stop() {
      await Promise.all(running.map((source) => source.stop()));
    },
  };
}
