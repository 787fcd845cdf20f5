import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";
import { startAws, type AwsEmulator, type AwsEmulatorOptions } from "../../local/emulators/aws";
import { startGitHub, type GitHubEmulator, type GitHubEmulatorOptions } from "../../local/emulators/github";

/** A GitHub App key pair, as PEM: the private key for `@octokit/auth-app`, the public key for the emulator. */
export function generateAppKeys(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

/** A clock tests move by hand; it starts at the real time so JWTs signed by real libraries stay valid. */
export function manualClock(start = Date.now()): { now: () => number; advance(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
  };
}

/** Starts the GitHub emulator for one test and stops it when the test ends. */
export async function startGitHubFor(t: ExecutionContext, options: GitHubEmulatorOptions): Promise<GitHubEmulator> {
  const emulator = await startGitHub(options);
  t.teardown(() => emulator.close());
  return emulator;
}

/** Starts the AWS emulator for one test and stops it when the test ends. */
export async function startAwsFor(t: ExecutionContext, options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const emulator = await startAws(options);
  t.teardown(() => emulator.close());
  return emulator;
}

/** Settings for any AWS SDK v3 client pointed at the emulator, with dummy credentials. */
export function awsClientConfig(url: string, accessKeyId = "AKIDSLIPWAYTEST") {
  return {
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey: "not-a-secret" },
  };
}

/** A temporary folder removed when the test ends. */
export function temporaryFolder(t: ExecutionContext, prefix = "slipway-"): string {
  const folder = mkdtempSync(path.join(tmpdir(), prefix));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** Runs git in a folder with a fixed identity and no user or system configuration; returns trimmed stdout. */
export function git(folder: string, ...args: string[]): string {
  return execFileSync("git", ["-C", folder, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Test Author",
      GIT_AUTHOR_EMAIL: "author@example.test",
      GIT_COMMITTER_NAME: "Test Author",
      GIT_COMMITTER_EMAIL: "author@example.test",
    },
  }).trim();
}
