import { Readable } from "node:stream";
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  type StartBuildCommandInput,
} from "@aws-sdk/client-codebuild";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import test from "ava";
import { awsJsonError, IDEMPOTENCY_WINDOW_MS, s3Error } from "../local/emulators/aws";
import { SORT_ORDER_REFUSED } from "../local/emulators/aws/codeBuild";
import { BUILD_TOOL_STAND_INS } from "../local/platform/buildRunner";
import { createBuildStarter } from "../runtime/build/buildStarter";
import { awsClientConfig, manualClock, startAwsFor, temporaryFolder } from "./helpers/emulators";

interface SdkFailure {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; attempts?: number };
}

async function failureOf(promise: Promise<unknown>): Promise<SdkFailure> {
  try {
    await promise;
  } catch (error) {
    return error as SdkFailure;
  }
  throw new Error("expected the call to fail");
}

const buildInput = (overrides: Partial<StartBuildCommandInput> = {}): StartBuildCommandInput => ({
  projectName: "slipway-node",
  idempotencyToken: "deployment-1",
  sourceTypeOverride: "S3",
  sourceLocationOverride: "slipway-sources/sources/deployment-1.zip",
  environmentVariablesOverride: [
    { name: "DEPLOYMENT_ID", value: "deployment-1", type: "PLAINTEXT" },
    { name: "COMMIT_SHA", value: "a".repeat(40), type: "PLAINTEXT" },
  ],
  ...overrides,
});

// ---- Secrets Manager -------------------------------------------------------------------------------------------------

test("Secrets Manager returns a secret by name, ARN and partial ARN; unknown is ResourceNotFoundException", async (t) => {
  const aws = await startAwsFor(t);
  const client = new SecretsManagerClient(awsClientConfig(aws.url));
  const arn = aws.putSecret("slipway/github-app-private-key", "-----BEGIN PRIVATE KEY-----");
  t.regex(arn, /^arn:aws:secretsmanager:us-east-1:000000000000:secret:slipway\/github-app-private-key-[A-Za-z0-9]{6}$/);
  for (const id of [arn, "slipway/github-app-private-key", arn.slice(0, -7)]) {
    const result = await client.send(new GetSecretValueCommand({ SecretId: id }));
    t.is(result.SecretString, "-----BEGIN PRIVATE KEY-----", id);
    t.is(result.ARN, arn);
    t.deepEqual(result.VersionStages, ["AWSCURRENT"]);
    t.true(result.CreatedDate instanceof Date);
  }

  aws.putSecret(arn, "rotated");
  t.is((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString, "rotated");
  t.is(
    (await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: "AWSPREVIOUS" }))).SecretString,
    "-----BEGIN PRIVATE KEY-----",
  );

  const missing = await failureOf(client.send(new GetSecretValueCommand({ SecretId: "slipway/nothing" })));
  t.is(missing.name, "ResourceNotFoundException");
  t.is(missing.message, "Secrets Manager can't find the specified secret.");
  t.is(missing.$metadata.httpStatusCode, 400);
});

test("Secrets Manager serves secrets put by full ARN, and binary secrets", async (t) => {
  const aws = await startAwsFor(t);
  const client = new SecretsManagerClient(awsClientConfig(aws.url));
  const given = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-key-AbC123";
  t.is(aws.putSecret(given, "pem"), given);
  t.is((await client.send(new GetSecretValueCommand({ SecretId: "app-key" }))).SecretString, "pem");
  aws.putSecret("binary", new Uint8Array([0, 1, 2, 255]));
  const binary = await client.send(new GetSecretValueCommand({ SecretId: "binary" }));
  t.deepEqual([...(binary.SecretBinary ?? [])], [0, 1, 2, 255]);
  t.is(binary.SecretString, undefined);
});

// ---- CodeBuild -------------------------------------------------------------------------------------------------------

test("CodeBuild starts a build with its overrides; BatchGetBuilds and ListBuildsForProject find it", async (t) => {
  const clock = manualClock();
  const aws = await startAwsFor(t, { now: clock.now });
  aws.defineProject("slipway-node", {
    environment: {
      environmentVariables: [
        { name: "BUILDER", value: "node" },
        { name: "COMMIT_SHA", value: "old" },
      ],
    },
  });
  const client = new CodeBuildClient(awsClientConfig(aws.url, "AKIDINSPECTOR"));

  const { build } = await client.send(new StartBuildCommand(buildInput()));
  t.regex(build?.id ?? "", /^slipway-node:[0-9a-f-]{36}$/);
  t.is(build?.arn, `arn:aws:codebuild:us-east-1:000000000000:build/${build?.id}`);
  t.is(build?.buildStatus, "IN_PROGRESS");
  t.is(build?.source?.type, "S3");
  t.is(build?.source?.location, "slipway-sources/sources/deployment-1.zip");
  t.is(build?.startTime?.getTime(), clock.now());

  const [recorded] = aws.builds();
  t.is(recorded?.id, build?.id);
  t.is(recorded?.sourceTypeOverride, "S3");
  t.is(recorded?.sourceLocationOverride, "slipway-sources/sources/deployment-1.zip");
  t.deepEqual(recorded?.environmentVariablesOverride, buildInput().environmentVariablesOverride);
  t.is(recorded?.initiator, "AKIDINSPECTOR");

  const fetched = await client.send(new BatchGetBuildsCommand({ ids: [build!.id!, "slipway-node:missing"] }));
  t.deepEqual(fetched.buildsNotFound, ["slipway-node:missing"]);
  // The project's variables, with the overrides winning by name, as CodeBuild reports them.
  t.deepEqual(
    fetched.builds?.[0]?.environment?.environmentVariables?.map((variable) => `${variable.name}=${variable.value}`),
    ["BUILDER=node", "DEPLOYMENT_ID=deployment-1", `COMMIT_SHA=${"a".repeat(40)}`],
  );

  clock.advance(1000);
  const second = await client.send(new StartBuildCommand(buildInput({ idempotencyToken: "deployment-2" })));
  clock.advance(1000);
  const third = await client.send(new StartBuildCommand(buildInput({ idempotencyToken: undefined })));
  const newestFirst = await client.send(
    new ListBuildsForProjectCommand({ projectName: "slipway-node", sortOrder: "DESCENDING" }),
  );
  t.deepEqual(newestFirst.ids, [third.build!.id, second.build!.id, build!.id]);
  const oldestFirst = await client.send(
    new ListBuildsForProjectCommand({ projectName: "slipway-node", sortOrder: "ASCENDING" }),
  );
  t.deepEqual(oldestFirst.ids, [build!.id, second.build!.id, third.build!.id]);
  t.deepEqual(
    aws.builds().map((each) => each.buildNumber),
    [1, 2, 3],
  );
});

test("CodeBuild: an unknown project is ResourceNotFoundException; bad input is InvalidInputException", async (t) => {
  const aws = await startAwsFor(t);
  const client = new CodeBuildClient(awsClientConfig(aws.url));
  const missing = await failureOf(client.send(new StartBuildCommand(buildInput({ projectName: "nope" }))));
  t.is(missing.name, "ResourceNotFoundException");
  t.regex(missing.message, /project\/nope/);
  t.is(
    (await failureOf(client.send(new ListBuildsForProjectCommand({ projectName: "nope" })))).name,
    "ResourceNotFoundException",
  );
  aws.defineProject("slipway-node");
  const badSource = await failureOf(
    client.send(new StartBuildCommand(buildInput({ sourceTypeOverride: "FTP" as "S3" }))),
  );
  t.is(badSource.name, "InvalidInputException");
  t.deepEqual(aws.builds(), []);
});

test("CodeBuild idempotency: same token and parameters → same build; other parameters → mismatch; after 5 min → new build", async (t) => {
  const clock = manualClock();
  const aws = await startAwsFor(t, { now: clock.now });
  aws.defineProject("slipway-node");
  const client = new CodeBuildClient(awsClientConfig(aws.url));

  const first = await client.send(new StartBuildCommand(buildInput()));
  clock.advance(IDEMPOTENCY_WINDOW_MS - 1000);
  // Same parameters in another order are the same request.
  const reordered = buildInput();
  const again = await client.send(
    new StartBuildCommand({ ...reordered, environmentVariablesOverride: [...reordered.environmentVariablesOverride!] }),
  );
  t.is(again.build?.id, first.build?.id);
  t.is(aws.builds().length, 1);

  const mismatch = await failureOf(
    client.send(new StartBuildCommand(buildInput({ sourceLocationOverride: "slipway-sources/other.zip" }))),
  );
  t.is(mismatch.name, "InvalidInputException");
  t.regex(mismatch.message, /parameter mismatch/);
  t.is(aws.builds().length, 1);

  clock.advance(2000); // now past the 5-minute window of the first call
  const later = await client.send(new StartBuildCommand(buildInput()));
  t.not(later.build?.id, first.build?.id);
  t.is(aws.builds().length, 2);
});

test("CodeBuild throttling by fault: the SDK sees ThrottlingException, or retries through it", async (t) => {
  const aws = await startAwsFor(t);
  aws.defineProject("slipway-node");
  aws.inject({ operation: "codebuild:StartBuild", times: 2, ...awsJsonError("ThrottlingException", "Rate exceeded") });
  const once = new CodeBuildClient({ ...awsClientConfig(aws.url), maxAttempts: 1 });
  const throttled = await failureOf(once.send(new StartBuildCommand(buildInput())));
  t.is(throttled.name, "ThrottlingException");
  t.is(throttled.message, "Rate exceeded");
  t.is(throttled.$metadata.httpStatusCode, 400);

  const retrying = new CodeBuildClient({ ...awsClientConfig(aws.url), maxAttempts: 3 });
  const started = await retrying.send(new StartBuildCommand(buildInput()));
  t.is(started.$metadata.attempts, 2, "one throttle left, then success");
  t.deepEqual(
    aws.requests().map((entry) => [entry.operation, entry.status, entry.faulted]),
    [
      ["codebuild:StartBuild", 400, true],
      ["codebuild:StartBuild", 400, true],
      ["codebuild:StartBuild", 200, false],
    ],
  );

  aws.inject({
    operation: /StartBuild$/,
    ...awsJsonError("AccountLimitExceededException", "Cannot have more than 60 active builds"),
  });
  const limited = await failureOf(once.send(new StartBuildCommand(buildInput({ idempotencyToken: "deployment-9" }))));
  t.is(limited.name, "AccountLimitExceededException");
});

// ---- S3 --------------------------------------------------------------------------------------------------------------

test("S3 puts, gets, heads and deletes objects; missing keys and buckets are S3's errors", async (t) => {
  const aws = await startAwsFor(t);
  aws.createBucket("slipway-sources");
  const s3 = new S3Client({ ...awsClientConfig(aws.url), forcePathStyle: true });
  const archive = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: "slipway-sources",
      Key: "sources/dep 1.zip",
      Body: archive,
      ContentType: "application/zip",
      Metadata: { deployment: "dep-1" },
    }),
  );
  t.regex(put.ETag ?? "", /^"[0-9a-f]{32}"$/);

  const got = await s3.send(new GetObjectCommand({ Bucket: "slipway-sources", Key: "sources/dep 1.zip" }));
  t.deepEqual([...(await got.Body!.transformToByteArray())], [...archive]);
  t.is(got.ContentType, "application/zip");
  t.is(got.ContentLength, archive.length);
  t.is(got.ETag, put.ETag);
  t.deepEqual(got.Metadata, { deployment: "dep-1" });
  t.deepEqual([...(aws.getObject("slipway-sources", "sources/dep 1.zip")?.body ?? [])], [...archive]);

  const range = await s3.send(
    new GetObjectCommand({ Bucket: "slipway-sources", Key: "sources/dep 1.zip", Range: "bytes=0-3" }),
  );
  t.is(range.ContentRange, `bytes 0-3/${archive.length}`);
  t.deepEqual([...(await range.Body!.transformToByteArray())], [0x50, 0x4b, 0x03, 0x04]);

  const head = await s3.send(new HeadObjectCommand({ Bucket: "slipway-sources", Key: "sources/dep 1.zip" }));
  t.is(head.ContentLength, archive.length);

  const listed = await s3.send(new ListObjectsV2Command({ Bucket: "slipway-sources", Prefix: "sources/" }));
  t.deepEqual(
    listed.Contents?.map((object) => object.Key),
    ["sources/dep 1.zip"],
  );

  const noKey = await failureOf(s3.send(new GetObjectCommand({ Bucket: "slipway-sources", Key: "sources/none.zip" })));
  t.is(noKey.name, "NoSuchKey");
  t.is(noKey.$metadata.httpStatusCode, 404);
  const noHead = await failureOf(
    s3.send(new HeadObjectCommand({ Bucket: "slipway-sources", Key: "sources/none.zip" })),
  );
  t.is(noHead.name, "NotFound");
  const noBucket = await failureOf(s3.send(new PutObjectCommand({ Bucket: "elsewhere", Key: "k", Body: "x" })));
  t.is(noBucket.name, "NoSuchBucket");
  t.is(noBucket.$metadata.httpStatusCode, 404);

  await s3.send(new DeleteObjectCommand({ Bucket: "slipway-sources", Key: "sources/dep 1.zip" }));
  t.is(aws.getObject("slipway-sources", "sources/dep 1.zip"), undefined);
  await s3.send(new DeleteObjectCommand({ Bucket: "slipway-sources", Key: "sources/dep 1.zip" })); // 204 again, as S3
});

test("S3 decodes streamed aws-chunked uploads and verifies their trailing checksums", async (t) => {
  const aws = await startAwsFor(t);
  aws.createBucket("slipway-sources");
  const s3 = new S3Client({ ...awsClientConfig(aws.url), forcePathStyle: true });
  const parts = [Buffer.from("hello "), Buffer.from("streamed "), Buffer.from("world")];
  await s3.send(
    new PutObjectCommand({
      Bucket: "slipway-sources",
      Key: "stream.txt",
      Body: Readable.from(parts),
      ContentLength: 20,
      ChecksumAlgorithm: "CRC32C",
    }),
  );
  const stored = aws.getObject("slipway-sources", "stream.txt");
  t.is(stored?.body.toString(), "hello streamed world");
  t.deepEqual(Object.keys(stored?.checksums ?? {}), ["crc32c"]);
  const got = await s3.send(
    new GetObjectCommand({ Bucket: "slipway-sources", Key: "stream.txt", ChecksumMode: "ENABLED" }),
  );
  t.is(await got.Body!.transformToString(), "hello streamed world");
  t.is(got.ChecksumCRC32C, stored?.checksums.crc32c);

  // A checksum that does not match the bytes is refused as S3 refuses it.
  const body = "tampered";
  const response = await fetch(`${aws.url}/slipway-sources/bad.txt`, {
    method: "PUT",
    body,
    headers: {
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIDSLIPWAYTEST/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
      "x-amz-checksum-crc32": "AAAAAA==",
    },
  });
  t.is(response.status, 400);
  t.regex(await response.text(), /<Code>BadDigest<\/Code>/);
  t.is(aws.getObject("slipway-sources", "bad.txt"), undefined);
});

test("S3 refuses unsigned requests; faults answer S3 errors; a hang ends in the client's timeout", async (t) => {
  const aws = await startAwsFor(t);
  aws.createBucket("slipway-sources");
  const anonymous = await fetch(`${aws.url}/slipway-sources/k`, { method: "PUT", body: "x" });
  t.is(anonymous.status, 403);
  t.regex(await anonymous.text(), /<Code>AccessDenied<\/Code>/);

  const s3 = new S3Client({ ...awsClientConfig(aws.url), forcePathStyle: true, maxAttempts: 1 });
  aws.inject({ operation: "s3:PutObject", ...s3Error("SlowDown", "Please reduce your request rate.", 503) });
  const slow = await failureOf(s3.send(new PutObjectCommand({ Bucket: "slipway-sources", Key: "k", Body: "x" })));
  t.is(slow.name, "SlowDown");
  t.is(slow.$metadata.httpStatusCode, 503);

  aws.inject({ operation: "s3:GetObject", hang: true });
  const impatient = new S3Client({
    ...awsClientConfig(aws.url),
    forcePathStyle: true,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
  });
  aws.putObject("slipway-sources", "k", "x");
  const timedOut = await failureOf(impatient.send(new GetObjectCommand({ Bucket: "slipway-sources", Key: "k" })));
  t.regex(`${timedOut.name} ${timedOut.message}`, /timeout|timed out/i);
});

// ---- identity and authorization --------------------------------------------------------------------------------------

test("authorize receives the access key, IAM action and resource ARN; false is AccessDenied(Exception) 403", async (t) => {
  const asked: string[] = [];
  const aws = await startAwsFor(t, {
    authorize(accessKeyId, action, resource) {
      asked.push(`${accessKeyId} ${action} ${resource}`);
      return accessKeyId !== "AKIDOUTSIDER";
    },
  });
  aws.defineProject("slipway-node");
  aws.createBucket("slipway-sources");
  aws.putObject("slipway-sources", "sources/a.zip", "zip");
  const secretArn = aws.putSecret("slipway/key", "pem");

  const insider = awsClientConfig(aws.url, "AKIDINSPECTOR");
  await new CodeBuildClient(insider).send(new StartBuildCommand(buildInput()));
  await new S3Client({ ...insider, forcePathStyle: true }).send(
    new HeadObjectCommand({ Bucket: "slipway-sources", Key: "sources/a.zip" }),
  );
  await new SecretsManagerClient(insider).send(new GetSecretValueCommand({ SecretId: "slipway/key" }));
  t.deepEqual(asked, [
    "AKIDINSPECTOR codebuild:StartBuild arn:aws:codebuild:us-east-1:000000000000:project/slipway-node",
    "AKIDINSPECTOR s3:GetObject arn:aws:s3:::slipway-sources/sources/a.zip",
    `AKIDINSPECTOR secretsmanager:GetSecretValue ${secretArn}`,
  ]);

  const outsider = { ...awsClientConfig(aws.url, "AKIDOUTSIDER"), maxAttempts: 1 };
  const build = await failureOf(
    new CodeBuildClient(outsider).send(new StartBuildCommand(buildInput({ idempotencyToken: "x" }))),
  );
  t.is(build.name, "AccessDeniedException");
  t.is(build.$metadata.httpStatusCode, 403);
  t.regex(
    build.message,
    /AKIDOUTSIDER is not authorized to perform: codebuild:StartBuild on resource: arn:aws:codebuild:.*project\/slipway-node/,
  );
  const secret = await failureOf(
    new SecretsManagerClient(outsider).send(new GetSecretValueCommand({ SecretId: "slipway/key" })),
  );
  t.is(secret.name, "AccessDeniedException");
  const object = await failureOf(
    new S3Client({ ...outsider, forcePathStyle: true }).send(
      new GetObjectCommand({ Bucket: "slipway-sources", Key: "sources/a.zip" }),
    ),
  );
  t.is(object.name, "AccessDenied");
  t.is(object.$metadata.httpStatusCode, 403);
  t.is(aws.builds().length, 1, "the denied StartBuild started nothing");
});

test("regression: ListBuildsForProject refuses sortOrder past 100 builds and with a nextToken, as CodeBuild does", async (t) => {
  const aws = await startAwsFor(t);
  aws.defineProject("slipway-node");
  const client = new CodeBuildClient({ ...awsClientConfig(aws.url), maxAttempts: 1 });
  for (let i = 1; i <= 101; i++) {
    const deploymentId = `deployment-${i}`;
    await client.send(
      new StartBuildCommand(
        buildInput({
          idempotencyToken: deploymentId,
          environmentVariablesOverride: [{ name: "DEPLOYMENT_ID", value: deploymentId, type: "PLAINTEXT" }],
        }),
      ),
    );
  }
  for (const sortOrder of ["DESCENDING", "ASCENDING"] as const) {
    const refused = await failureOf(
      client.send(new ListBuildsForProjectCommand({ projectName: "slipway-node", sortOrder })),
    );
    t.is(refused.name, "InvalidInputException");
    t.is(refused.message, SORT_ORDER_REFUSED);
  }
  // Without it: newest first, 100 a page.
  const first = await client.send(new ListBuildsForProjectCommand({ projectName: "slipway-node" }));
  t.is(first.ids?.length, 100);
  t.is(first.ids?.[0], aws.builds().at(-1)!.id);
  const next = await client.send(
    new ListBuildsForProjectCommand({ projectName: "slipway-node", nextToken: first.nextToken }),
  );
  t.deepEqual(next.ids, [aws.builds()[0]!.id]);
  const withToken = await failureOf(
    client.send(
      new ListBuildsForProjectCommand({
        projectName: "slipway-node",
        nextToken: first.nextToken,
        sortOrder: "ASCENDING",
      }),
    ),
  );
  t.is(withToken.message, SORT_ORDER_REFUSED);

  // The inspector's resume finds a deployment's build in a project with more than 100 builds.
  const starter = createBuildStarter(client);
  t.is(await starter.findExisting("slipway-node", "deployment-101"), aws.builds().at(-1)!.id);
  t.is(await starter.findExisting("slipway-node", "deployment-0"), undefined);
});

test("S3 answers GetBucketAcl (the owner's FULL_CONTROL) and GetBucketLocation, each its own IAM action", async (t) => {
  const asked: string[] = [];
  const aws = await startAwsFor(t, {
    region: "eu-west-1",
    authorize: (_key, action, resource) => (asked.push(`${action} ${resource}`), true),
  });
  aws.createBucket("slipway-sources");
  const s3 = new S3Client({ ...awsClientConfig(aws.url), region: "eu-west-1", forcePathStyle: true });
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: "slipway-sources" }));
  t.is(acl.Grants?.[0]?.Permission, "FULL_CONTROL");
  t.is(acl.Grants?.[0]?.Grantee?.ID, acl.Owner?.ID);
  const location = await s3.send(new GetBucketLocationCommand({ Bucket: "slipway-sources" }));
  t.is(location.LocationConstraint, "eu-west-1");
  t.deepEqual(asked, [
    "s3:GetBucketAcl arn:aws:s3:::slipway-sources",
    "s3:GetBucketLocation arn:aws:s3:::slipway-sources",
  ]);
  t.is((await failureOf(s3.send(new GetBucketAclCommand({ Bucket: "missing" })))).name, "NoSuchBucket");
});

const run = promisify(execFile);

test("the build stand-ins log in to ECR Public and ECR and push through the emulator, under the build's key", async (t) => {
  const asked: string[] = [];
  const refused = new Set<string>();
  const aws = await startAwsFor(t, {
    authorize: (key, action, resource) => {
      asked.push(`${key} ${action} ${resource}`);
      return !refused.has(action);
    },
  });
  const home = temporaryFolder(t);
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: "ASIABUILDROLE",
    AWS_SECRET_ACCESS_KEY: "x",
    AWS_REGION: "us-east-1",
  };
  const tool = (name: string) => path.join(BUILD_TOOL_STAND_INS, name);
  const publicPassword = await run(tool("aws"), ["ecr-public", "get-login-password", "--region", "us-east-1"], { env });
  t.true(publicPassword.stdout.trim().length > 20);
  const password = await run(tool("aws"), ["ecr", "get-login-password", "--region", "us-east-1"], { env });
  const image = "000000000000.dkr.ecr.us-east-1.localhost/slipway-images:d-1";
  const noLogin = await t.throwsAsync(run(tool("docker"), ["push", image], { env }));
  t.regex(String((noLogin as { stderr?: string }).stderr), /no basic auth credentials/);
  const login = run(tool("docker"), ["login", "--username", "AWS", "--password-stdin", image.split("/")[0]!], { env });
  login.child.stdin!.end(password.stdout);
  t.regex((await login).stdout, /Login Succeeded/);
  await run(tool("docker"), ["push", image], { env });
  const repository = "arn:aws:ecr:us-east-1:000000000000:repository/slipway-images";
  t.deepEqual(asked, [
    "ASIABUILDROLE ecr-public:GetAuthorizationToken *",
    "ASIABUILDROLE sts:GetServiceBearerToken *",
    "ASIABUILDROLE ecr:GetAuthorizationToken *",
    ...[
      "BatchGetImage",
      "BatchCheckLayerAvailability",
      "InitiateLayerUpload",
      "UploadLayerPart",
      "CompleteLayerUpload",
      "PutImage",
    ].map((operation) => `ASIABUILDROLE ecr:${operation} ${repository}`),
  ]);

  // ECR Public needs both actions: without sts:GetServiceBearerToken, no token.
  refused.add("sts:GetServiceBearerToken");
  const denied = await t.throwsAsync(
    run(tool("aws"), ["ecr-public", "get-login-password", "--region", "us-east-1"], { env }),
  );
  t.regex(String((denied as { stderr?: string }).stderr), /AccessDeniedException.*sts:GetServiceBearerToken/);
  // ECR Public's API is in us-east-1 only.
  const elsewhere = await t.throwsAsync(
    run(tool("aws"), ["ecr-public", "get-login-password", "--region", "eu-west-1"], { env }),
  );
  t.regex(String((elsewhere as { stderr?: string }).stderr), /Could not connect/);
});
