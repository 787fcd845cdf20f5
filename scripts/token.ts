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
import { loadOrCreateIssuerKey, mintToken } from "../local/platform/localIssuer";

const USAGE = "usage: token <userId> [--expires-in <seconds>]   (state folder: $SLIPWAY_STATE_DIR, default .slipway)";

export interface CommandOutput {
  readonly exitCode: number;
  readonly stdout?: string;
  readonly stderr?: string;
}

/** Parses and mints; returns what to print instead of printing, so the decisions are testable. */
export function runTokenCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): CommandOutput {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { "expires-in": { type: "string" } } });
  } catch (error) {
    return { exitCode: 2, stderr: `${(error as Error).message}\n${USAGE}` };
  }
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
  const key = loadOrCreateIssuerKey(env.SLIPWAY_STATE_DIR || ".slipway");
  return { exitCode: 0, stdout: mintToken({ privateKeyPem: key.privateKeyPem, sub: userId, expiresInSeconds, now }) };
}

if (require.main === module) {
  try {
    const { exitCode, stdout, stderr } = runTokenCommand(process.argv.slice(2));
    if (stdout !== undefined) process.stdout.write(stdout + "\n");
    if (stderr) process.stderr.write(stderr + "\n");
    process.exitCode = exitCode;
  } catch (error) {
    process.stderr.write(`token: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
