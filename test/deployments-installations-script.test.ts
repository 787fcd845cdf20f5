import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import anyTest, { type TestFn } from "ava";
import { ENV } from "../runtime/environment";
import { LOCAL_AWS, sharedDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { createTables } from "./helpers/tables";
import { writeRunningPlatform } from "../local/platform/runningPlatform";
import { printedOutput, runInstallationsCommand } from "../scripts/installations";

const test = anyTest as TestFn<{ local: DynamoDbLocal }>;
const run = promisify(execFile);
const projectRoot = resolve(__dirname, "..");

test.before(async (t) => {
  t.context = { local: await sharedDynamoDbLocal() };
});

test.after.always(async (t) => {
  await t.context.local?.stop();
});

/** The environment an operator would have: credentials and region (dummies for DynamoDB Local), no table name. */
function operatorEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[ENV.installationsTable];
  delete env[ENV.dynamodbEndpoint];
  return {
    ...env,
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
}

/**
 * The command's decisions in this process (`runInstallationsCommand`, printed as the script prints them): each
 * spawn costs seconds on a loaded machine. The last test runs the script itself, as `npm run installations` does.
 */
async function command(args: string[], env: NodeJS.ProcessEnv) {
  // The SDK takes region and credentials from this process's environment, as the script's process would from its own.
  Object.assign(process.env, { AWS_REGION: env.AWS_REGION, AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID });
  Object.assign(process.env, { AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY });
  const output = await runInstallationsCommand(args, env);
  return { code: output.exitCode, ...printedOutput(output) };
}

/** Runs the command as `npm run installations -- …` does (tsx), and reports exit code and output. */
async function installations(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "scripts/installations.ts", ...args], {
      cwd: projectRoot,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

test("put, get, list and delete installations through the command, table and endpoint from flags", async (t) => {
  const { installations: table } = await createTables(t.context.local.endpoint);
  const flags = ["--table", table, "--endpoint", t.context.local.endpoint];
  const env = operatorEnv();

  const put = await command(["put", "alice", "12345", "--account", "acme", ...flags], env);
  t.is(put.code, 0, put.stderr);
  t.like(JSON.parse(put.stdout), { userId: "alice", installationId: 12345, accountLogin: "acme" });
  t.regex(JSON.parse(put.stdout).createdAt, /^\d{4}-\d{2}-\d{2}T/);
  t.is((await command(["put", "bob", "7", ...flags], env)).code, 0);

  const got = await command(["get", "alice", ...flags], env);
  t.is(got.code, 0);
  t.like(JSON.parse(got.stdout), { userId: "alice", installationId: 12345 });

  const listed = await command(["list", ...flags], env);
  t.deepEqual(
    (JSON.parse(listed.stdout) as { userId: string; installationId: number }[]).map((i) => [
      i.userId,
      i.installationId,
    ]),
    [
      ["alice", 12345],
      ["bob", 7],
    ],
  );

  const deleted = await command(["delete", "bob", ...flags], env);
  t.is(deleted.code, 0);
  t.like(JSON.parse(deleted.stdout), { deleted: { userId: "bob", installationId: 7 } });
  const missing = await command(["get", "bob", ...flags], env);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no installation for user bob/);
  t.is((await command(["delete", "bob", ...flags], env)).code, 1);
});

test("table and endpoint can come from the environment instead", async (t) => {
  const { installations: table } = await createTables(t.context.local.endpoint);
  const env = operatorEnv({ [ENV.installationsTable]: table, [ENV.dynamodbEndpoint]: t.context.local.endpoint });
  t.is((await command(["put", "carol", "99"], env)).code, 0);
  t.like(JSON.parse((await command(["get", "carol"], env)).stdout), { installationId: 99 });
});

test("usage mistakes exit 2 with a message and write nothing", async (t) => {
  const { installations: table } = await createTables(t.context.local.endpoint);
  const flags = ["--table", table, "--endpoint", t.context.local.endpoint];
  const env = operatorEnv();
  const mistakes: [string[], RegExp][] = [
    [["put", "dave", "0", ...flags], /installationId must be a positive integer/],
    [[...flags, "put", "--", "dave", "-3"], /positive integer/],
    [["put", "dave", "1.5", ...flags], /positive integer/],
    [["put", "dave", "12abc", ...flags], /positive integer/],
    [["put", "dave", "99999999999999999999", ...flags], /positive integer/],
    [["put", "dave", ...flags], /expected <userId> <installationId>/],
    [["get", ...flags], /expected <userId>/],
    [["frobnicate", ...flags], /unknown command frobnicate/],
    [["list", "--endpoint", t.context.local.endpoint], /--table or INSTALLATIONS_TABLE/],
    [["list", "--nope", ...flags], /Unknown option/],
  ];
  for (const [args, message] of mistakes) {
    const result = await command(args, env);
    t.is(result.code, 2, args.join(" "));
    t.regex(result.stderr, message, args.join(" "));
  }
  t.deepEqual(JSON.parse((await command(["list", ...flags], env)).stdout), []);
});

test("--local works against the running npm start with nothing else set, and --help explains", async (t) => {
  const tables = await createTables(t.context.local.endpoint);
  const stateDir = mkdtempSync(join(tmpdir(), "slipway-installations-local-"));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  // No credentials, region, table or endpoint: what a newcomer has.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: stateDir, SLIPWAY_STATE_DIR: stateDir };

  const notRunning = await installations(["--local", "list"], env);
  t.is(notRunning.code, 2);
  t.regex(notRunning.stderr, /the local platform is not running .*start it with npm start/);

  // What npm start writes while it runs.
  writeRunningPlatform(stateDir, {
    apiUrl: "http://127.0.0.1:3000",
    dynamodbEndpoint: t.context.local.endpoint,
    region: LOCAL_AWS.region,
    tables,
    pid: process.pid,
  });
  const put = await installations(["--local", "put", "erin", "4242", "--account", "erin"], env);
  t.is(put.code, 0, put.stderr);
  t.like(JSON.parse(put.stdout), { userId: "erin", installationId: 4242 });
  t.like(JSON.parse((await installations(["--local", "get", "erin"], env)).stdout), { installationId: 4242 });
  t.notRegex(put.stderr, /NodeVersionSupportWarning/, "the SDK's Node.js notice is said once, in the README");

  const both = await installations(["--local", "--table", "x", "list"], env);
  t.is(both.code, 2);
  t.regex(both.stderr, /--local names the table and endpoint itself/);

  const help = await installations(["--help"], env);
  t.is(help.code, 0);
  t.regex(help.stdout, /--local[\s\S]*npm run installations -- --local put/);
});
