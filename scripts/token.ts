/**
 * Prints a bearer token for the local platform's HTTP API, signed by the local issuer:
 *
 *   npm run --silent token -- <userId> [--expires-in <seconds>]
 *   curl -H "Authorization: Bearer $(npm run --silent token -- alice)" …
 *
 * The key lives in $SLIPWAY_STATE_DIR (default .slipway), created on first use. The token is the only thing on
 * stdout; mistakes go to stderr with exit code 2.
 */
import { parseArgs } from "node:util";
import { LOCAL_ISSUER, loadOrCreateIssuerKey, mintToken } from "../local/platform/localIssuer";

const USAGE = "usage: token <userId> [--expires-in <seconds>]   (state folder: $SLIPWAY_STATE_DIR, default .slipway)";

const HELP = `${USAGE}

  Prints a bearer token (a JWT signed with jose by the local issuer, ${LOCAL_ISSUER}) that the local platform's
  HTTP API accepts for <userId>, the token's \`sub\`. The issuer's key is kept in the state folder and made on
  first use; npm start publishes it as the issuer's JWKS, where the API's JWT authorizer finds it.

  --expires-in <seconds>   lifetime of the token (default 3600)
  --help                   this text

  curl -H "Authorization: Bearer $(npm run --silent token -- alice)" http://127.0.0.1:3000/deployments`;

export interface CommandOutput {
  readonly exitCode: number;
  readonly stdout?: string;
  readonly stderr?: string;
}

/** Parses and mints; returns what to print instead of printing, so the decisions are testable. */
export async function runTokenCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): Promise<CommandOutput> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { "expires-in": { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    return { exitCode: 2, stderr: `${(error as Error).message}\n${USAGE}` };
  }
  if (parsed.values.help) return { exitCode: 0, stdout: HELP };
  const [userId, ...extra] = parsed.positionals;
  if (userId === undefined || extra.length > 0) return { exitCode: 2, stderr: USAGE };
  // The user id becomes the JWT `sub` and then a DynamoDB key: printable, no spaces, as an identity provider's ids are.
  if (!/^[\x21-\x7e]{1,128}$/.test(userId)) {
    return {
      exitCode: 2,
      stderr: `userId must be 1–128 printable characters without spaces, got ${JSON.stringify(userId)}\n${USAGE}`,
    };
  }
  const expiresIn = parsed.values["expires-in"];
  const expiresInSeconds = expiresIn === undefined ? 3600 : Number(expiresIn);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0) {
    return {
      exitCode: 2,
      stderr: `--expires-in must be a positive number of seconds, got ${JSON.stringify(expiresIn)}\n${USAGE}`,
    };
  }
  const key = await loadOrCreateIssuerKey(env.SLIPWAY_STATE_DIR || ".slipway");
  return {
    exitCode: 0,
    stdout: await mintToken({ privateKeyPem: key.privateKeyPem, sub: userId, expiresInSeconds, now }),
  };
}

if (require.main === module) {
  runTokenCommand(process.argv.slice(2)).then(
    ({ exitCode, stdout, stderr }) => {
      if (stdout !== undefined) process.stdout.write(stdout + "\n");
      if (stderr) process.stderr.write(stderr + "\n");
      process.exitCode = exitCode;
    },
    (error: unknown) => {
      process.stderr.write(`token: ${(error as Error).message ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
