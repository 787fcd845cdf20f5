import test from "ava";
import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { awsClientConfig, startAwsFor } from "./helpers/emulators";

const GROUP = "/aws/codebuild/slipway-node-local";

test("GetLogEvents from the head pages forward; at the end the same token comes back; from the tail by default", async (t) => {
  const aws = await startAwsFor(t, { now: () => 1_700_000_000_000 });
  aws.createLogGroup(GROUP);
  aws.putLogEvents(
    GROUP,
    "build-1",
    Array.from({ length: 5 }, (_, i) => ({ timestamp: 1_700_000_000_000 + i, message: `line ${i}` })),
  );
  const logs = new CloudWatchLogsClient(awsClientConfig(aws.url));
  const read = (input: { nextToken?: string; limit?: number; startFromHead?: boolean }) =>
    logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: "build-1", ...input }));

  const first = await read({ startFromHead: true, limit: 2 });
  t.deepEqual(
    first.events?.map((e) => e.message),
    ["line 0", "line 1"],
  );
  t.is(first.events?.[0]?.timestamp, 1_700_000_000_000);
  t.regex(first.nextForwardToken!, /^f\/\d{56}\/s$/);
  const second = await read({ nextToken: first.nextForwardToken, limit: 2 });
  t.deepEqual(
    second.events?.map((e) => e.message),
    ["line 2", "line 3"],
  );
  const third = await read({ nextToken: second.nextForwardToken, limit: 2 });
  t.deepEqual(
    third.events?.map((e) => e.message),
    ["line 4"],
  );
  const end = await read({ nextToken: third.nextForwardToken, limit: 2 });
  t.deepEqual(end.events, []);
  t.is(end.nextForwardToken, third.nextForwardToken, "the end of the stream: the same token comes back");

  aws.putLogEvents(GROUP, "build-1", [{ timestamp: 1_700_000_000_010, message: "line 5" }]);
  const more = await read({ nextToken: end.nextForwardToken });
  t.deepEqual(
    more.events?.map((e) => e.message),
    ["line 5"],
    "a follower sees what was appended",
  );

  const tail = await read({ limit: 2 });
  t.deepEqual(
    tail.events?.map((e) => e.message),
    ["line 4", "line 5"],
    "startFromHead defaults to false: the newest",
  );
  const back = await read({ nextToken: tail.nextBackwardToken, limit: 10 });
  t.deepEqual(
    back.events?.map((e) => e.message),
    ["line 0", "line 1", "line 2", "line 3"],
  );
});

test("GetLogEvents: missing group or stream is ResourceNotFoundException; another stream's token or a bad limit is InvalidParameterException", async (t) => {
  const aws = await startAwsFor(t);
  aws.createLogGroup(GROUP);
  aws.putLogEvents(GROUP, "a", [{ timestamp: 1, message: "a" }]);
  aws.putLogEvents(GROUP, "b", [{ timestamp: 1, message: "b" }]);
  const logs = new CloudWatchLogsClient(awsClientConfig(aws.url));
  const failure = (input: Record<string, unknown>) =>
    logs.send(new GetLogEventsCommand(input as never)).then(
      () => undefined,
      (error: Error) => [error.name, error.message],
    );
  t.deepEqual(await failure({ logGroupName: "/nope", logStreamName: "a" }), [
    "ResourceNotFoundException",
    "The specified log group does not exist.",
  ]);
  t.deepEqual(await failure({ logGroupName: GROUP, logStreamName: "c" }), [
    "ResourceNotFoundException",
    "The specified log stream does not exist.",
  ]);
  const { nextForwardToken } = await logs.send(
    new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: "a", startFromHead: true }),
  );
  t.is(
    (await failure({ logGroupName: GROUP, logStreamName: "b", nextToken: nextForwardToken }))?.[0],
    "InvalidParameterException",
  );
  t.is(
    (await failure({ logGroupName: GROUP, logStreamName: "a", nextToken: "f/123/s" }))?.[0],
    "InvalidParameterException",
  );
  t.is((await failure({ logGroupName: GROUP, logStreamName: "a", limit: 10_001 }))?.[0], "InvalidParameterException");
});

test("GetLogEvents is authorized on the log stream's ARN", async (t) => {
  const seen: string[] = [];
  const aws = await startAwsFor(t, {
    authorize: (_key, action, resource) => {
      seen.push(`${action} ${resource}`);
      return resource.startsWith(`arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}:log-stream:`);
    },
  });
  aws.createLogGroup(GROUP);
  aws.createLogGroup("/other");
  aws.putLogEvents(GROUP, "s", [{ timestamp: 1, message: "x" }]);
  aws.putLogEvents("/other", "s", [{ timestamp: 1, message: "x" }]);
  const logs = new CloudWatchLogsClient(awsClientConfig(aws.url));
  await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: "s" }));
  const denied = await logs
    .send(new GetLogEventsCommand({ logGroupName: "/other", logStreamName: "s" }))
    .catch((e: Error) => e);
  t.is((denied as Error).name, "AccessDeniedException");
  t.deepEqual(seen, [
    `logs:GetLogEvents arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}:log-stream:s`,
    "logs:GetLogEvents arn:aws:logs:us-east-1:000000000000:log-group:/other:log-stream:s",
  ]);
});

test("ECR DescribeImages finds an image by tag; a missing tag or repository is refused as ECR does; IMMUTABLE tags stay", async (t) => {
  const aws = await startAwsFor(t, { now: () => 1_700_000_000_000 });
  aws.createRepository("slipway-images", { imageTagMutability: "IMMUTABLE" });
  const digest = `sha256:${"a".repeat(64)}`;
  aws.putImage("slipway-images", "deployment-1", digest);
  const ecr = new ECRClient(awsClientConfig(aws.url));
  const { imageDetails } = await ecr.send(
    new DescribeImagesCommand({ repositoryName: "slipway-images", imageIds: [{ imageTag: "deployment-1" }] }),
  );
  t.is(imageDetails?.[0]?.imageDigest, digest);
  t.deepEqual(imageDetails?.[0]?.imageTags, ["deployment-1"]);
  t.is(imageDetails?.[0]?.imagePushedAt?.getTime(), 1_700_000_000_000);
  const missing = await ecr
    .send(new DescribeImagesCommand({ repositoryName: "slipway-images", imageIds: [{ imageTag: "nope" }] }))
    .catch((e: Error) => e);
  t.is((missing as Error).name, "ImageNotFoundException");
  const noRepository = await ecr
    .send(new DescribeImagesCommand({ repositoryName: "nope", imageIds: [{ imageTag: "x" }] }))
    .catch((e: Error) => e);
  t.is((noRepository as Error).name, "RepositoryNotFoundException");
  t.throws(() => aws.putImage("slipway-images", "deployment-1", `sha256:${"b".repeat(64)}`), {
    message: /cannot be overwritten because the repository is immutable/,
  });
});
