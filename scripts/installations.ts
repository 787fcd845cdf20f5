/**
 * Operator command for the `installations` table (which GitHub App installation acts for which Slipway user):
 *
 *   npm run installations -- put <userId> <installationId> [--account <login>]
 *   npm run installations -- get <userId>
 *   npm run installations -- list
 *   npm run installations -- delete <userId> [<installationId>]
 *
 * A user may have several installations linked (their account and organisations); users normally link their own
 * through `POST /github/installations`, and this command stays for operators.
 *
 * Options: --table <name> (default $INSTALLATIONS_TABLE), --endpoint <url> (default $SLIPWAY_DYNAMODB_ENDPOINT; unset
 * means AWS with the usual credentials and region), or --local: the running `npm start`'s DynamoDB Local and table
 * (from its state folder), with no other setup. Prints JSON on stdout; errors go to stderr with exit code 1 (not
 * found) or 2 (usage).
 */
import { parseArgs } from "node:util";
import { createDocumentClient } from "../runtime/aws";
import type { Installation } from "../runtime/deployment";
import { InstallationStore } from "../runtime/deployments/installationStore";
import { ENV, readEnvironment } from "../runtime/environment";
import { isValidationError, ValidationError } from "../runtime/errors";
import { LOCAL_AWS } from "../local/platform/dynamodbLocal";
import { readRunningPlatform } from "../local/platform/runningPlatform";
import { applyNodeVersionPolicy } from "./nodeVersionPolicy";

const USAGE = `usage: installations <command> [options]
  put <userId> <installationId> [--account <login>]   link the user to a GitHub App installation
  get <userId>                                        show the user's newest link
  list                                                show all
  delete <userId> [<installationId>]                  unlink one installation, or all of the user's
options: --table <name> (or ${ENV.installationsTable}), --endpoint <url> (or ${ENV.dynamodbEndpoint}),
         --local (the running npm start's table: no table, endpoint or credentials to set), --help`;

const HELP = `${USAGE}

  Which GitHub App installations act for which Slipway user (the JWT's sub): the stack's installations table. Users
  link their own through the install flow (POST /github/installations); this command is for operators.
  Against a deployed stack: INSTALLATIONS_TABLE=$(pulumi stack output installationsTableName) with your AWS
  credentials. Against npm start: --local, e.g. npm run installations -- --local put alice 12345 --account alice`;

export interface CommandOutput {
  readonly exitCode: number;
  readonly stdout?: unknown;
  readonly stderr?: string;
}

/** Parses and runs one command; returns what to print instead of printing, so the decisions are testable. */
export async function runInstallationsCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  clock: () => Date = () => new Date(),
): Promise<CommandOutput> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        table: { type: "string" },
        endpoint: { type: "string" },
        account: { type: "string" },
        local: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return { exitCode: 2, stderr: `${(error as Error).message}\n${USAGE}` };
  }
  const { values, positionals } = parsed;
  if (values.help) return { exitCode: 0, stdout: HELP };
  const [command, ...args] = positionals;
  const settings = readEnvironment([], env);
  let table = values.table ?? settings.installationsTable;
  let endpoint = values.endpoint ?? settings.dynamodbEndpoint;
  let clientConfig = {};
  if (values.local) {
    if (values.table !== undefined || values.endpoint !== undefined) {
      return {
        exitCode: 2,
        stderr: `--local names the table and endpoint itself: drop --table and --endpoint\n${USAGE}`,
      };
    }
    const running = readRunningPlatform(env.SLIPWAY_STATE_DIR || ".slipway");
    if (typeof running === "string") return { exitCode: 2, stderr: running };
    table = running.tables.installations;
    endpoint = running.dynamodbEndpoint;
    // DynamoDB Local takes any credentials; these keep the machine's own AWS credentials out of it.
    clientConfig = LOCAL_AWS;
  }
  if (!table) return { exitCode: 2, stderr: `name the table with --table or ${ENV.installationsTable}\n${USAGE}` };
  const client = createDocumentClient(endpoint ? { dynamodbEndpoint: endpoint } : {}, clientConfig);
  const store = new InstallationStore({ client, table });
  try {
    switch (command) {
      case "put": {
        const [userId, installationId] = expectArgs(args, ["userId", "installationId"]);
        const installation: Installation = {
          userId,
          installationId: parseInstallationId(installationId),
          ...(values.account !== undefined ? { accountLogin: values.account } : {}),
          createdAt: clock().toISOString(),
        };
        return { exitCode: 0, stdout: await store.put(installation) };
      }
      case "get": {
        const [userId] = expectArgs(args, ["userId"]);
        const installation = await store.get(userId);
        return installation
          ? { exitCode: 0, stdout: installation }
          : { exitCode: 1, stderr: `no installation for user ${userId}; add one with: put ${userId} <installationId>` };
      }
      case "list":
        expectArgs(args, []);
        return { exitCode: 0, stdout: await store.list() };
      case "delete": {
        const [userId, installationId] =
          args.length === 2 ? expectArgs(args, ["userId", "installationId"]) : expectArgs(args, ["userId"]);
        const removed = await store.delete(
          userId,
          installationId === undefined ? undefined : parseInstallationId(installationId),
        );
        return removed.length > 0
          ? { exitCode: 0, stdout: { deleted: removed.length === 1 ? removed[0] : removed } }
          : { exitCode: 1, stderr: `no installation for user ${userId}; nothing deleted` };
      }
      default:
        return { exitCode: 2, stderr: command ? `unknown command ${command}\n${USAGE}` : USAGE };
    }
  } catch (error) {
    if (isValidationError(error)) return { exitCode: 2, stderr: `${error.message}\n${USAGE}` };
    throw error;
  } finally {
    client.destroy();
  }
}

/** GitHub installation ids are positive integers; anything else is a typo worth catching before it is stored. */
export function parseInstallationId(raw: string): number {
  const id = /^[1-9][0-9]*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new ValidationError(
      "installationId",
      `installationId must be a positive integer (the number in https://github.com/settings/installations/<id>), got ${JSON.stringify(raw)}`,
    );
  }
  return id;
}

/** The positional arguments, one per name (a tuple as long as `names`), or a ValidationError (a usage mistake). */
function expectArgs<const Names extends readonly string[]>(
  args: readonly string[],
  names: Names,
): { readonly [I in keyof Names]: string } {
  if (args.length !== names.length || args.some((arg) => arg === "")) {
    throw new ValidationError(
      "arguments",
      `expected ${names.length ? names.map((n) => `<${n}>`).join(" ") : "no arguments"}`,
    );
  }
  return args as unknown as { readonly [I in keyof Names]: string };
}

/** What the command prints for an outcome: text as is, anything else as indented JSON; each stream ends a line. */
export function printedOutput({ stdout, stderr }: CommandOutput): { stdout: string; stderr: string } {
  const text = typeof stdout === "string" ? stdout : stdout === undefined ? undefined : JSON.stringify(stdout, null, 2);
  return { stdout: text === undefined ? "" : `${text}\n`, stderr: stderr ? `${stderr}\n` : "" };
}

if (require.main === module) {
  applyNodeVersionPolicy();
  runInstallationsCommand(process.argv.slice(2)).then(
    (output) => {
      const printed = printedOutput(output);
      process.stdout.write(printed.stdout);
      process.stderr.write(printed.stderr);
      process.exitCode = output.exitCode;
    },
    (error: unknown) => {
      const message = (error as Error)?.message ?? String(error);
      // The usual first stumble: no region or credentials configured for AWS.
      const hint = /region|credential/i.test(message)
        ? " (AWS region and credentials come from AWS_REGION/AWS_PROFILE etc.; use --local for npm start's table)"
        : "";
      process.stderr.write(`installations: ${message}${hint}\n`);
      process.exitCode = 1;
    },
  );
}
