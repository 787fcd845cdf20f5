#!/usr/bin/env node
/**
 * Puts AWS's DynamoDB Local (with streams) in `.cache/dynamodb-local/` for the tests and the local platform.
 *
 * Why this way: the jar ships inside the npm package `amplify-dynamodb-simulator` (folder `emulator/`), but installing
 * that package pulls in ~280 others. `npm pack` fetches only its tarball through the ordinary npm client (same
 * registry, proxy and cache settings as `npm install`), and `tar` extracts only `package/emulator/**`.
 *
 * Idempotent: does nothing when the jar is already there. Plain Node ESM with no dependencies, so it runs before
 * `npm install` has finished anything else. Usage: `node scripts/setup-dynamodb-local.mjs [--force]`.
 */
import { execFileSync } from "node:child_process";
import console from "node:console";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const PACKAGE = "amplify-dynamodb-simulator@2.9.30";
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const installDirectory = join(projectRoot, ".cache", "dynamodb-local");
export const jarPath = join(installDirectory, "DynamoDBLocal.jar");

function run(command, args, options = {}) {
  // npm is npm.cmd on Windows; a shell finds either.
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...options });
}

export function setupDynamoDbLocal({ force = false, log = (line) => console.log(line) } = {}) {
  if (existsSync(jarPath) && !force) {
    log(`DynamoDB Local already set up at ${installDirectory}`);
    return installDirectory;
  }
  const workDirectory = mkdtempSync(join(tmpdir(), "slipway-dynamodb-local-"));
  try {
    log(`Fetching ${PACKAGE} with npm pack (only its tarball, no dependencies)…`);
    const packed = JSON.parse(
      run("npm", ["pack", PACKAGE, "--json", "--pack-destination", workDirectory], {
        cwd: workDirectory,
        shell: process.platform === "win32",
      }),
    );
    const tarball = join(workDirectory, packed[0].filename);

    log(`Extracting package/emulator/** from ${tarball}`);
    const extracted = join(workDirectory, "extracted");
    mkdirSync(extracted);
    run("tar", ["-xzf", tarball, "-C", extracted, "package/emulator"]);
    const emulator = join(extracted, "package", "emulator");
    if (!existsSync(join(emulator, "DynamoDBLocal.jar"))) {
      throw new Error(`${PACKAGE} has no emulator/DynamoDBLocal.jar; pick a version that ships DynamoDB Local`);
    }

    // Move the whole folder in at once, so an interrupted run never leaves a jar without its native libraries.
    // Test files run in parallel processes and may all get here; the first rename wins and the others keep it.
    if (force) rmSync(installDirectory, { recursive: true, force: true });
    mkdirSync(dirname(installDirectory), { recursive: true });
    try {
      renameSync(emulator, installDirectory);
    } catch (error) {
      if (existsSync(jarPath)) {
        log(`Another process installed DynamoDB Local in ${installDirectory} meanwhile; keeping that one`);
        return installDirectory;
      }
      // A leftover folder without the jar (an older, interrupted install): replace it.
      if (!existsSync(installDirectory)) throw error;
      rmSync(installDirectory, { recursive: true, force: true });
      renameSync(emulator, installDirectory);
    }
    log(`DynamoDB Local installed in ${installDirectory} (${readdirSync(installDirectory).join(", ")})`);
    return installDirectory;
  } finally {
    rmSync(workDirectory, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setupDynamoDbLocal({ force: process.argv.includes("--force") });
}
