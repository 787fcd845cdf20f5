import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { createLogger } from "../runtime/log";
import { portInUse } from "./platform/freePort";
import { KEPT_ACROSS_FRESH } from "./platform/clearState";
import { applyNodeVersionPolicy } from "../scripts/nodeVersionPolicy";

const USAGE = `npm start [-- --fresh] [--run-builds] [--unlinked] [--port <n>]

  Runs Slipway on this machine: the stack (index.ts) with every AWS resource provisioned locally, and the web
  dashboard (web/, built with Vite when its sources changed) at http://127.0.0.1:<port>/.
  --fresh        start from empty state (empties .slipway/ but keeps the token signing key, so tokens stay valid)
  --run-builds   run each build's buildspec for real, sealed: aws and docker are Slipway's local stand-ins (never
                 your AWS account or a remote registry); images are built by this machine's Docker and pushed to
                 .slipway/registry/; logs in .slipway/builds/ and through the API. Otherwise builds are SIMULATED:
                 they walk CodeBuild's phases and succeed with a synthetic image
  --unlinked     start with no installation linked and the emulated GitHub App installed nowhere: install it from
                 GET /github/install's URL (the emulator's install page), link it with POST /github/installations.
                 Default: every owner of SLIPWAY_REPOS_DIR has the App installed and linked
  --port <n>     the API's port (default: $PORT or 3000)

  Environment: SLIPWAY_REPOS_DIR (repositories served as GitHub, <owner>/<name>/; default examples/repos),
  SLIPWAY_STATE_DIR (default .slipway), GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY_FILE (use GitHub itself),
  SLIPWAY_CORS_ORIGINS (comma-separated), SLIPWAY_SIMULATED_BUILD_SECONDS (default 5; a repository holding
  .slipway/simulate-failure fails its simulated build in BUILD, or in the phase the file names, and one holding
  .slipway/simulate-seconds takes that long), SLIPWAY_FUNCTION_LOGS=1 (print the functions' own logs),
  SLIPWAY_DEBUG=1 (the platform's own info logs), SLIPWAY_DOCKER (the Docker CLI --run-builds builds with; default
  the first docker on PATH).`;

function javaMissing(): boolean {
  try {
    execFileSync("java", ["-version"], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fresh: { type: "boolean" },
      "run-builds": { type: "boolean" },
      unlinked: { type: "boolean" },
      port: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  applyNodeVersionPolicy();
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number (0-65535), got ${JSON.stringify(values.port ?? process.env.PORT)}`);
    process.exit(2);
  }
  if (port !== 0 && (await portInUse(port))) {
    console.error(portInUseLine(port));
    process.exit(1);
  }
  if (javaMissing()) {
    console.error(
      "Slipway's local platform runs AWS's DynamoDB Local, which needs Java 17 or newer, and `java` is not on PATH.\n" +
        "Install it, e.g. `sudo apt-get install openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17`, then run `npm start` again.",
    );
    process.exit(1);
  }
  // The platform (AWS SDK, Pulumi, the emulators) loads only now: --help, a bad port or a taken one answer at once.
  const [
    { ensureDashboardBuilt },
    { describeChange, watchDeployments },
    { DEFAULT_REPOS_DIR, repositoryOwners, simulatedBuildSecondsFromEnvironment, startPlatform },
    { describeSealedBuildTools },
  ] = await Promise.all([
    import("./platform/dashboardSite"),
    import("./platform/deploymentWatcher"),
    import("./platform/platform"),
    import("./platform/sealedBuildTools"),
  ]);
  const stateDir = path.resolve(process.env.SLIPWAY_STATE_DIR ?? ".slipway");
  const reposDir = path.resolve(process.env.SLIPWAY_REPOS_DIR ?? DEFAULT_REPOS_DIR);
  const appKeyFile = process.env.GITHUB_APP_PRIVATE_KEY_FILE;
  const realGitHub =
    process.env.GITHUB_APP_ID && appKeyFile
      ? {
          appId: process.env.GITHUB_APP_ID,
          privateKeyPem: fs.readFileSync(appKeyFile, "utf8"),
          ...(process.env.GITHUB_API_URL ? { apiUrl: process.env.GITHUB_API_URL } : {}),
        }
      : undefined;
  // The platform's own info lines are for debugging (SLIPWAY_DEBUG=1); warnings and errors always show.
  const structured = createLogger((line) => process.stderr.write(line + "\n"));
  const logger = process.env.SLIPWAY_DEBUG === "1" ? structured : { ...structured, info: () => undefined };
  const showFunctionLogs = process.env.SLIPWAY_FUNCTION_LOGS === "1";
  const simulatedSeconds = simulatedBuildSecondsFromEnvironment();

  console.log(
    values.fresh
      ? `Starting Slipway locally from empty state (keeping ${KEPT_ACROSS_FRESH.map((file) => path.join(path.relative(process.cwd(), stateDir) || stateDir, file)).join(", ")}: tokens minted before still work)…`
      : "Starting Slipway locally…",
  );
  ensureDashboardBuilt(undefined, (message) => console.log(message));
  const platform = await startPlatform({
    port,
    stateDir,
    fresh: values.fresh ?? false,
    reposDir,
    runBuilds: values["run-builds"] ?? false,
    unlinked: values.unlinked ?? false,
    onWebhookDelivery: (delivery) =>
      console.log(
        `[${new Date().toISOString().slice(11, 19)}] GitHub webhook ${delivery.event}${delivery.action ? `.${delivery.action}` : ""} → ${delivery.status ?? delivery.error}`,
      ),
    simulatedBuildSeconds: simulatedSeconds,
    onBuildOutcome: (outcome) =>
      console.log(
        `[${new Date().toISOString().slice(11, 19)}] build ${outcome.buildId} ${outcome.status}` +
          `${outcome.failedPhase ? ` in ${outcome.failedPhase}` : ""}` +
          `${"logFile" in outcome ? ` (log: ${outcome.logFile})` : " (simulated)"}`,
      ),
    ...(realGitHub ? { realGitHub } : {}),
    ...(process.env.SLIPWAY_CORS_ORIGINS ? { corsAllowOrigins: process.env.SLIPWAY_CORS_ORIGINS.split(",") } : {}),
    onProgress: (message: string) => console.log(message),
    ...(showFunctionLogs ? { onFunctionLog: (name: string, line: string) => console.log(`  ${name} | ${line}`) } : {}),
    notify: (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
    logger,
  });
  const watcher = await watchDeployments({
    dynamodbEndpoint: platform.dynamodbEndpoint,
    table: platform.tables.deployments,
    onChange: (change) => console.log(describeChange(change)),
    logger,
  });

  const owners = platform.reposDir ? repositoryOwners(platform.reposDir) : [];
  console.log(`
Slipway is running.
  Dashboard    ${platform.apiUrl}/   (sign in as a local user)
  API          ${platform.apiUrl}   (POST /deployments, GET /deployments, GET /deployments/{id},
                 GET /deployments/{id}/logs, POST /deployments/{id}/cancel)
  Token        npm run --silent token -- <userId>${owners.length ? `   (local users: ${owners.join(", ")})` : ""}
  Repositories ${platform.reposDir ? `${platform.reposDir} served as GitHub (each owner is one App installation${values.unlinked ? ", none installed or linked yet: GET /github/install" : ""}; git commit in a checkout there sends a push)` : "GitHub itself (register installations with npm run installations)"}
  State        ${stateDir}
  Builds       ${platform.sealedBuildTools ? `run for real, ${describeSealedBuildTools(platform.sealedBuildTools, stateDir)}` : `SIMULATED, ${simulatedSeconds} s each, synthetic images (npm start -- --run-builds runs them, sealed)`}
  Try          curl -s -X POST ${platform.apiUrl}/deployments -H "authorization: Bearer $(npm run --silent token -- ${owners[0] ?? "<userId>"})" \\
                 -H 'content-type: application/json' -d '{"repository":"${owners[0] ?? "owner"}/${firstRepository(platform.reposDir, owners[0]) ?? "name"}"}'
Deployments appear below as they move. Ctrl-C stops everything.
`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Slipway…`);
    await watcher.stop().catch(() => undefined);
    await platform.stop();
    console.log("Stopped. State is kept in", stateDir);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

function firstRepository(reposDir: string | undefined, owner: string | undefined): string | undefined {
  if (!reposDir || !owner) return undefined;
  return fs
    .readdirSync(path.join(reposDir, owner), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()[0];
}

/** The one line a taken port gets: what is wrong and the two ways out. */
export function portInUseLine(port: number): string {
  return `Port ${port} is already in use (another npm start?): stop what uses it, or pick another port: PORT=${port + 1} npm start, or npm start -- --port ${port + 1}`;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    // Taken between the check and the listen: the same one line.
    const { code, port } = (error ?? {}) as { code?: string; port?: number };
    if (code === "EADDRINUSE" && typeof port === "number") console.error(portInUseLine(port));
    else console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  });
}
