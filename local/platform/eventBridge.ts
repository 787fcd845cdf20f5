import { randomUUID } from "node:crypto";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { Logger } from "../../runtime/log";
import { compileFilterCriteria, type RecordFilter } from "./eventSources/eventFilter";
import type { Queue } from "./eventSources/sqsQueue";
import type { PrincipalRegistry } from "./iam/principals";
import type { LocalFunction } from "./lambda/startFunction";
import type { DeclaredEventRule, DeclaredEventTarget, LocalResources } from "./provisioner";

/**
 * The default event bus, on this machine: the stack's rules (an event pattern, or a schedule) and their Lambda
 * targets, provisioned from the rule and target resources the stack declares. What it follows:
 *
 * - Patterns use EventBridge's syntax, matched by the same Event Ruler implementation the event source mappings use
 *   (eventSources/eventFilter.ts). A schedule `rate(N minutes)` puts a "Scheduled Event" every N minutes.
 * - EventBridge invokes a Lambda target asynchronously, only if a resource policy (aws.lambda.Permission) lets
 *   `events.amazonaws.com` invoke the function for this rule's ARN; otherwise the delivery fails and the event goes to
 *   the target's dead-letter queue, if that queue's policy lets EventBridge send from this rule
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html#eb-rule-dlq).
 * - Lambda's asynchronous invocation (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):
 *   a function error is retried `maximumRetryAttempts` times (default 2, "one minute before the first retry, two
 *   minutes before the second"), then the event goes to the on-failure destination, sent with the function's role.
 * - Events are delivered one by one and run concurrently, so they can reach the function out of order, as in AWS.
 */
export interface LocalEventBridge {
  /** Puts an event on the default bus (what a service such as CodeBuild does). */
  put(event: BusEvent): void;
  /** Puts a scheduled rule's event now, without waiting for its schedule (tests and the bench). */
  runSchedule(ruleName: string): void;
  /** Loses the events `lose` matches (up to `times`, default all): a delivery AWS never made, for fault tests. */
  inject(fault: { readonly lose: (event: BusEvent) => boolean; readonly times?: number }): void;
  /** Forgets injected faults. */
  reset(): void;
  /** Resolves when no delivery is in flight or waiting for a retry. */
  idle(): Promise<void>;
  stats(): EventBridgeStats;
  stop(): Promise<void>;
}

/** An event on the bus: the envelope's fields (`source`, `detail-type`, `detail`, `time`…) as EventBridge has them. */
export interface BusEvent {
  readonly source: string;
  readonly "detail-type": string;
  readonly detail: unknown;
}

export interface EventBridgeStats {
  /** Events put on the bus, and deliveries (event × matching target) made. */
  put: number;
  matched: number;
  /** Invocations that succeeded, failed (each attempt), and events given up on. */
  succeeded: number;
  failedAttempts: number;
  deadLettered: number;
  /** Successful invocations per rule name. */
  succeededByRule: Record<string, number>;
  /** Events lost by an injected fault. */
  lost: number;
}

export interface LocalEventBridgeOptions {
  readonly resources: LocalResources;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly queues: ReadonlyMap<string, Queue>;
  readonly iam: PrincipalRegistry;
  readonly region: string;
  readonly accountId: string;
  readonly logger: Logger;
  /** Waits before Lambda's asynchronous retries. Default AWS's: one minute, then two. Tests pass small ones. */
  readonly asyncRetryDelaysMs?: readonly number[];
  /** Run the schedules on their timers. Default true; tests turn it off and call `runSchedule`. */
  readonly schedules?: boolean;
}

/** `rate(5 minutes)`, `rate(1 minute)`, `rate(2 hours)`… → milliseconds; undefined for what this does not run (cron). */
export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const unit = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[match[2]!.replace(/s$/, "") as "minute"];
  return Number(match[1]) * unit;
}

/**
 * Whether a resource policy (an SQS queue policy) lets an AWS service principal (`events.amazonaws.com`) make the
 * request, decided by the IAM simulator the local platform uses for every other policy.
 */
export async function servicePolicyAllows(
  policyJson: string | undefined,
  service: string,
  request: { action: string; resource: string; accountId: string; context: Record<string, string> },
): Promise<boolean> {
  if (!policyJson) return false;
  const result = await runSimulation(
    {
      request: {
        principal: service,
        action: request.action,
        resource: { resource: request.resource, accountId: request.accountId },
        contextVariables: request.context,
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: JSON.parse(policyJson) as Record<string, unknown>,
    },
    { simulationMode: "Strict" },
  );
  return result.resultType === "single" && result.overallResult === "Allowed";
}

export function startEventBridge(options: LocalEventBridgeOptions): LocalEventBridge {
  const { resources, logger } = options;
  const retryDelays = options.asyncRetryDelaysMs ?? [60_000, 120_000];
  const stats: EventBridgeStats = {
    put: 0,
    matched: 0,
    succeeded: 0,
    failedAttempts: 0,
    deadLettered: 0,
    succeededByRule: {},
    lost: 0,
  };
  let faults: { lose: (event: BusEvent) => boolean; times: number }[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Retry waits in progress: stopping ends them at once (the retry then sees `stopped`). */
  const waits = new Map<NodeJS.Timeout, () => void>();
  let stopped = false;

  const rules = [...resources.eventRules.values()].filter((rule) => rule.enabled);
  const patterns = new Map<string, RecordFilter>();
  for (const rule of rules) {
    if (rule.eventPattern)
      patterns.set(rule.name, compileFilterCriteria({ filters: [{ pattern: rule.eventPattern }] }));
  }
  const targetsOf = (rule: DeclaredEventRule) => resources.eventTargets.filter((target) => target.rule === rule.name);

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      waits.set(timer, resolve);
    });
  const track = (work: Promise<void>) => {
    const tracked = work
      .catch((error: unknown) => logger.error("event delivery failed", { error: String(error) }))
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const deadLetter = async (target: DeclaredEventTarget, rule: DeclaredEventRule, event: BusEvent, why: string) => {
    const queueArn = target.deadLetterArn;
    const queue = queueArn ? options.queues.get(queueArn) : undefined;
    const policy = queue ? resources.queuePolicies.get(queue.url) : undefined;
    const allowed =
      queue !== undefined &&
      (await servicePolicyAllows(policy, "events.amazonaws.com", {
        action: "sqs:SendMessage",
        resource: queueArn!,
        accountId: options.accountId,
        context: { "aws:SourceArn": rule.arn, "aws:SourceAccount": options.accountId },
      }));
    if (!allowed) {
      logger.error("event dropped: its delivery failed and no dead-letter queue would take it", {
        rule: rule.name,
        why,
      });
      return;
    }
    // EventBridge's dead letters carry the event as the body and the failure as message attributes.
    queue.send(JSON.stringify(event), {
      RULE_ARN: { dataType: "String", stringValue: rule.arn },
      TARGET_ARN: { dataType: "String", stringValue: target.arn },
      ERROR_CODE: { dataType: "String", stringValue: why },
    });
    stats.deadLettered++;
  };

  /** Lambda's asynchronous invocation of one event: retries, then the on-failure destination. */
  const invokeAsync = async (rule: DeclaredEventRule, fn: LocalFunction, functionArn: string, event: BusEvent) => {
    const config = resources.invokeConfigs.get(fn.name) ?? resources.invokeConfigs.get(functionArn);
    const retries = Math.min(config?.maximumRetryAttempts ?? 2, retryDelays.length);
    let last: { errorType: string; errorMessage: string } | undefined;
    for (let attempt = 0; attempt <= retries && !stopped; attempt++) {
      if (attempt > 0) await sleep(retryDelays[attempt - 1]!);
      const result = await fn.invoke(event).catch((error: unknown) => ({
        ok: false as const,
        errorType: "Runtime.InvokeError",
        errorMessage: String(error),
        durationMs: 0,
      }));
      if (result.ok) {
        stats.succeeded++;
        stats.succeededByRule[rule.name] = (stats.succeededByRule[rule.name] ?? 0) + 1;
        return;
      }
      stats.failedAttempts++;
      last = result;
      logger.warn("asynchronous invocation failed", {
        function: fn.name,
        attempt: attempt + 1,
        error: result.errorMessage,
      });
    }
    if (stopped) return;
    const destination: string | undefined = config?.destinationConfig?.onFailure?.destination;
    if (!destination) {
      logger.error("event discarded after Lambda's retries (no on-failure destination)", { function: fn.name });
      return;
    }
    const declared = resources.functions.get(fn.name);
    const credentials = declared ? options.iam.credentialsFor(declared.roleName) : undefined;
    const send = credentials && (await options.iam.authorize(credentials.accessKeyId, "sqs:SendMessage", destination));
    const queue = options.queues.get(destination);
    if (!send?.allowed || !queue) {
      logger.error("the on-failure destination refused the event", { function: fn.name, reason: send?.message });
      return;
    }
    queue.send(
      JSON.stringify({
        version: "1.0",
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: randomUUID(),
          functionArn: `${functionArn}:$LATEST`,
          condition: "RetriesExhausted",
          approximateInvokeCount: retries + 1,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
        responsePayload: { errorType: last?.errorType, errorMessage: last?.errorMessage },
      }),
    );
    stats.deadLettered++;
  };

  const deliver = (rule: DeclaredEventRule, target: DeclaredEventTarget, event: BusEvent) => {
    stats.matched++;
    const fn = options.functions.get(target.arn);
    const permitted =
      fn !== undefined &&
      resources.permissions.some(
        (p) =>
          p.principal === "events.amazonaws.com" &&
          p.action === "lambda:InvokeFunction" &&
          (p.function === fn.name || p.function === target.arn) &&
          (p.sourceArn === undefined || p.sourceArn === rule.arn),
      );
    if (!fn || !permitted) {
      logger.error("EventBridge may not invoke the target: no lambda:InvokeFunction permission for this rule", {
        rule: rule.name,
        target: target.arn,
      });
      track(deadLetter(target, rule, event, "NO_PERMISSIONS"));
      return;
    }
    track(invokeAsync(rule, fn, target.arn, event));
  };

  const put = (event: BusEvent) => {
    if (stopped) return;
    stats.put++;
    const fault = faults.find((candidate) => candidate.times > 0 && candidate.lose(event));
    if (fault) {
      fault.times--;
      stats.lost++;
      return;
    }
    // Delivered after the caller's turn, each on its own: nothing orders one event's delivery before another's.
    setImmediate(() => {
      for (const rule of rules) {
        const matches = patterns.get(rule.name);
        if (!matches || !matches(event)) continue;
        for (const target of targetsOf(rule)) deliver(rule, target, event);
      }
    });
  };

  const scheduledEvent = (rule: DeclaredEventRule): BusEvent & Record<string, unknown> => ({
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: options.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: options.region,
    resources: [rule.arn],
    detail: {},
  });
  const fire = (rule: DeclaredEventRule) => {
    stats.put++;
    for (const target of targetsOf(rule)) deliver(rule, target, scheduledEvent(rule));
  };
  const intervals: NodeJS.Timeout[] = [];
  for (const rule of rules) {
    if (!rule.scheduleExpression) continue;
    const every = rateMs(rule.scheduleExpression);
    if (every === undefined) {
      logger.warn("schedule not run locally (only rate() expressions are)", { rule: rule.name });
      continue;
    }
    if (options.schedules !== false) intervals.push(setInterval(() => fire(rule), every));
  }

  return {
    put,
    runSchedule(ruleName) {
      const rule = rules.find((candidate) => candidate.name === ruleName);
      if (!rule?.scheduleExpression) throw new Error(`no scheduled rule ${ruleName}`);
      fire(rule);
    },
    async idle() {
      // A delivery may start another (a function putting events); wait until a turn finds nothing in flight.
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        if (inFlight.size === 0) return;
        await Promise.all(inFlight);
      }
    },
    stats: () => ({ ...stats, succeededByRule: { ...stats.succeededByRule } }),
    inject(fault) {
      faults.push({ lose: fault.lose, times: fault.times ?? Infinity });
    },
    reset() {
      faults = [];
    },
    async stop() {
      stopped = true;
      for (const interval of intervals) clearInterval(interval);
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve();
      }
      await Promise.all(inFlight);
    },
  };
}
