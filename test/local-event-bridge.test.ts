import test from "ava";
import { eventsDeadLetterQueuePolicy } from "../components/policies";
import { buildEventPattern } from "../components/buildLifecycle";
import { rateMs, servicePolicyAllows, startEventBridge, type BusEvent } from "../local/platform/eventBridge";
import { createQueue } from "../local/platform/eventSources/sqsQueue";
import { createPrincipalRegistry } from "../local/platform/iam/principals";
import type { LocalFunction } from "../local/platform/lambda/startFunction";
import { emptyResources, type LocalResources } from "../local/platform/provisioner";

/*
 * The local default event bus against fake functions: which rule's pattern an event matches, the Lambda permission
 * EventBridge needs, Lambda's asynchronous retries and on-failure destination (sent with the function's role), the
 * dead-letter queue EventBridge writes only if the queue's policy lets it, and lost events for fault tests.
 */
const ACCOUNT = "000000000000";
const RULE = { name: "build-state", arn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/build-state` };
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:events`;
const DLQ = { name: "dlq", arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:dlq`, url: `https://sqs/${ACCOUNT}/dlq` };

function fakeFunction(answers: boolean[]): LocalFunction & { events: unknown[] } {
  const events: unknown[] = [];
  return {
    name: "events",
    events,
    async invoke(event) {
      events.push(event);
      const ok = answers.shift() ?? true;
      return ok
        ? { ok: true, result: null, durationMs: 1 }
        : { ok: false, errorType: "Error", errorMessage: "boom", durationMs: 1 };
    },
    coldStarts: () => [],
    pids: () => [],
    stop: async () => {},
  };
}

function world(options: { permitted?: boolean; queuePolicy?: string; roleMaySend?: boolean; answers?: boolean[] }) {
  const resources: LocalResources = emptyResources();
  resources.eventRules.set(RULE.name, {
    ...RULE,
    eventPattern: JSON.stringify(buildEventPattern("CodeBuild Build State Change", ["slipway-node"])),
    enabled: true,
  });
  resources.eventRules.set("reconcile", {
    name: "reconcile",
    arn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/reconcile`,
    scheduleExpression: "rate(5 minutes)",
    enabled: true,
  });
  resources.eventTargets.push({ rule: RULE.name, arn: FUNCTION_ARN, deadLetterArn: DLQ.arn });
  resources.eventTargets.push({ rule: "reconcile", arn: FUNCTION_ARN });
  if (options.permitted !== false) {
    for (const rule of [RULE.arn, `arn:aws:events:us-east-1:${ACCOUNT}:rule/reconcile`]) {
      resources.permissions.push({
        action: "lambda:InvokeFunction",
        function: "events",
        principal: "events.amazonaws.com",
        sourceArn: rule,
      });
    }
  }
  if (options.queuePolicy) resources.queuePolicies.set(DLQ.url, options.queuePolicy);
  resources.invokeConfigs.set("events", {
    maximumRetryAttempts: 2,
    destinationConfig: { onFailure: { destination: DLQ.arn } },
  });
  resources.functions.set("events", {
    name: "events",
    arn: FUNCTION_ARN,
    roleName: "events-role",
    codeDir: "/nowhere",
    environment: {},
    memorySizeMb: 128,
    timeoutSeconds: 3,
  } as never);
  const iam = createPrincipalRegistry({ accountId: ACCOUNT, region: "us-east-1", warn: () => {} });
  iam.registerRole("events-role", `arn:aws:iam::${ACCOUNT}:role/events-role`);
  if (options.roleMaySend !== false) {
    iam.putRolePolicy("events-role", "p", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ.arn] }],
    });
  }
  const fn = fakeFunction(options.answers ?? []);
  const dlq = createQueue({ arn: DLQ.arn, url: DLQ.url });
  const bus = startEventBridge({
    resources,
    functions: new Map([
      [FUNCTION_ARN, fn],
      ["events", fn],
    ]),
    queues: new Map([[DLQ.arn, dlq]]),
    iam,
    region: "us-east-1",
    accountId: ACCOUNT,
    logger: { info() {}, warn() {}, error() {} },
    asyncRetryDelaysMs: [5, 10],
    schedules: false,
  });
  return { bus, fn, dlq };
}

const stateChange = (project: string): BusEvent => ({
  source: "aws.codebuild",
  "detail-type": "CodeBuild Build State Change",
  detail: { "project-name": project, "build-status": "SUCCEEDED" },
});

test("only events matching a rule's pattern reach its target; a schedule puts a Scheduled Event naming its rule", async (t) => {
  const { bus, fn } = world({});
  bus.put(stateChange("slipway-node"));
  bus.put(stateChange("someone-elses-project"));
  bus.put({ ...stateChange("slipway-node"), "detail-type": "CodeBuild Build Phase Change" });
  bus.put({ ...stateChange("slipway-node"), source: "aws.s3" });
  await bus.idle();
  t.is(fn.events.length, 1);
  t.deepEqual((fn.events[0] as BusEvent).detail, stateChange("slipway-node").detail);

  bus.runSchedule("reconcile");
  await bus.idle();
  const scheduled = fn.events[1] as Record<string, unknown>;
  t.like(scheduled, { source: "aws.events", "detail-type": "Scheduled Event", detail: {} });
  t.deepEqual(scheduled.resources, [`arn:aws:events:us-east-1:${ACCOUNT}:rule/reconcile`]);
  t.is(rateMs("rate(5 minutes)"), 300_000);
  t.is(rateMs("rate(1 minute)"), 60_000);
  t.is(rateMs("cron(0 12 * * ? *)"), undefined);
  await bus.stop();
});

test("a failing function is retried twice, then the event goes to its on-failure destination with the record Lambda writes", async (t) => {
  const { bus, fn, dlq } = world({ answers: [false, false, false] });
  bus.put(stateChange("slipway-node"));
  await bus.idle();
  t.is(fn.events.length, 3, "the first attempt and two retries");
  const [message] = dlq.messages();
  const record = JSON.parse(message!.body);
  t.like(record.requestContext, { condition: "RetriesExhausted", approximateInvokeCount: 3 });
  t.deepEqual(record.requestPayload.detail, stateChange("slipway-node").detail);
  t.like(record.responsePayload, { errorType: "Error", errorMessage: "boom" });
  t.like(bus.stats(), { failedAttempts: 3, deadLettered: 1, succeeded: 0 });
  await bus.stop();
});

test("a retry that succeeds sends nothing to the destination; a role that may not send loses the event", async (t) => {
  const flaky = world({ answers: [false, true] });
  flaky.bus.put(stateChange("slipway-node"));
  await flaky.bus.idle();
  t.is(flaky.fn.events.length, 2);
  t.is(flaky.dlq.messages().length, 0);
  await flaky.bus.stop();

  const mute = world({ answers: [false, false, false], roleMaySend: false });
  mute.bus.put(stateChange("slipway-node"));
  await mute.bus.idle();
  t.is(mute.dlq.messages().length, 0, "the function's role lacks sqs:SendMessage, as in AWS");
  await mute.bus.stop();
});

test("without a Lambda permission for the rule, EventBridge's delivery fails: the dead-letter queue takes it only if its policy lets EventBridge send from this rule", async (t) => {
  const allowed = world({
    permitted: false,
    queuePolicy: JSON.stringify(eventsDeadLetterQueuePolicy(DLQ.arn, [RULE.arn])),
  });
  allowed.bus.put(stateChange("slipway-node"));
  await allowed.bus.idle();
  t.is(allowed.fn.events.length, 0);
  const [letter] = allowed.dlq.messages();
  t.deepEqual(JSON.parse(letter!.body).detail, stateChange("slipway-node").detail);
  t.is(letter!.messageAttributes?.ERROR_CODE?.stringValue, "NO_PERMISSIONS");
  await allowed.bus.stop();

  const otherRule = world({
    permitted: false,
    queuePolicy: JSON.stringify(eventsDeadLetterQueuePolicy(DLQ.arn, [`${RULE.arn}-other`])),
  });
  otherRule.bus.put(stateChange("slipway-node"));
  await otherRule.bus.idle();
  t.is(otherRule.dlq.messages().length, 0, "the policy names another rule");
  await otherRule.bus.stop();
});

test("servicePolicyAllows reads the queue policy with the IAM simulator: principal, action, resource and source ARN", async (t) => {
  const policy = JSON.stringify(eventsDeadLetterQueuePolicy(DLQ.arn, [RULE.arn]));
  const request = (overrides: Partial<{ action: string; resource: string; source: string }>) => ({
    action: overrides.action ?? "sqs:SendMessage",
    resource: overrides.resource ?? DLQ.arn,
    accountId: ACCOUNT,
    context: { "aws:SourceArn": overrides.source ?? RULE.arn },
  });
  t.true(await servicePolicyAllows(policy, "events.amazonaws.com", request({})));
  t.false(await servicePolicyAllows(policy, "sns.amazonaws.com", request({})));
  t.false(await servicePolicyAllows(policy, "events.amazonaws.com", request({ source: `${RULE.arn}x` })));
  t.false(await servicePolicyAllows(policy, "events.amazonaws.com", request({ action: "sqs:DeleteMessage" })));
  t.false(await servicePolicyAllows(undefined, "events.amazonaws.com", request({})));
});

test("an injected fault loses matching events, as a delivery AWS never made", async (t) => {
  const { bus, fn } = world({});
  bus.inject({
    lose: (event) => (event.detail as { "build-status"?: string })["build-status"] === "SUCCEEDED",
    times: 1,
  });
  bus.put(stateChange("slipway-node"));
  bus.put(stateChange("slipway-node"));
  await bus.idle();
  t.is(fn.events.length, 1);
  t.is(bus.stats().lost, 1);
  await bus.stop();
});
