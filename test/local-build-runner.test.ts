import anyTest, { type TestFn } from "ava";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildspecFor } from "../components/buildspecs";
import AdmZip from "adm-zip";
import type { EmulatedBuild } from "../local/emulators/aws/codeBuild";
import { runBuild, type BuildOutcome } from "../local/platform/buildRunner";
import {
  describeSealedBuildTools,
  findDocker,
  prepareSealedBuildTools,
  type SealedBuildTools,
} from "../local/platform/sealedBuildTools";
import { useTestFolder } from "./helpers/testFolder";

// The tests change process.env.PATH while a build runs: one at a time.
const test = anyTest.serial as TestFn;
const folder = useTestFolder("build-runner");

const SHA = "0123456789abcdef0123456789abcdef01234567";
const REPOSITORY_URL = "000000000000.dkr.ecr.us-east-1.localhost/slipway-images";

function build(variables: Record<string, string>): EmulatedBuild {
  return {
    id: "slipway-static-local:1",
    arn: "arn:aws:codebuild:us-east-1:000000000000:build/slipway-static-local:1",
    projectName: "slipway-static-local",
    buildNumber: 1,
    startTime: new Date(),
    buildStatus: "IN_PROGRESS",
    currentPhase: "QUEUED",
    initiator: "test",
    environmentVariablesOverride: Object.entries(variables).map(([name, value]) => ({
      name,
      value,
      type: "PLAINTEXT",
    })),
    request: {},
  };
}

function writeExecutable(file: string, content: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode: 0o755 });
  return file;
}

/**
 * A Docker engine stand-in (no Docker here): `build` makes an image whose id is the digest of its arguments (so two
 * deployments' images differ), `image inspect` answers its id, `info` answers.
 */
function fakeEngine(dir: string): string {
  const store = path.join(dir, "engine-images");
  return writeExecutable(
    path.join(dir, "engine", "docker"),
    `#!/usr/bin/env bash
set -euo pipefail
key() { printf '%s/%s' "${store}" "$(printf '%s' "$1" | tr '/:' '__')"; }
case "$1" in
  info) echo "fake engine" ;;
  build)
    tag=""; previous=""
    for arg in "$@"; do if [ "$previous" = --tag ]; then tag="$arg"; fi; previous="$arg"; done
    mkdir -p "${store}"
    printf 'sha256:%s\\n' "$(printf '%s\\n' "$@" | sha256sum | cut -c1-64)" > "$(key "$tag")"
    echo "fake engine built $tag" ;;
  image) f="$(key "\${*: -1}")"; [ -f "$f" ] || { echo "No such image" >&2; exit 1; }; cat "$f" ;;
  *) echo "fake engine: $*" ;;
esac
`,
  );
}

/** `aws` and `docker` that must never run: each leaves a marker. First on this process's PATH during a build. */
function hostileTools(dir: string): { bin: string; markers: string[] } {
  const bin = path.join(dir, "machine-bin");
  const markers = ["aws", "docker"].map((tool) => path.join(dir, `ran-machine-${tool}`));
  for (const tool of ["aws", "docker"]) {
    writeExecutable(path.join(bin, tool), `#!/bin/sh\ntouch "${path.join(dir, `ran-machine-${tool}`)}"\nexit 0\n`);
  }
  return { bin, markers };
}

/** A staged source as the inspector stages GitHub's zipball: one top-level folder, the SHA as comment. */
function zipOf(files: Record<string, string>): Buffer {
  const zip = new AdmZip();
  for (const [name, content] of Object.entries(files)) zip.addFile(name, Buffer.from(content));
  zip.addZipComment(SHA);
  return zip.toBuffer();
}

function stagedSource(): Buffer {
  return zipOf({ "demo-landing-0123456/": "", "demo-landing-0123456/index.html": "<h1>hi</h1>" });
}

interface SealedRun {
  readonly outcome: BuildOutcome;
  readonly log: string;
}

async function runSealed(
  dir: string,
  tools: SealedBuildTools,
  deploymentId: string,
  options: { repository?: string; mutability?: string } = {},
): Promise<SealedRun> {
  const logFile = path.join(dir, `${deploymentId}.log`);
  const outcome = await runBuild({
    build: build({
      DEPLOYMENT_ID: deploymentId,
      COMMIT_SHA: SHA,
      REPOSITORY: options.repository ?? "demo/landing",
      ROOT_DIRECTORY: "",
    }),
    buildspec: buildspecFor("static"),
    projectVariables: [
      { name: "IMAGE_REPOSITORY_URI", value: REPOSITORY_URL },
      { name: "SLIPWAY_BUILDER", value: "static" },
    ],
    source: stagedSource(),
    workDir: fs.mkdtempSync(path.join(dir, "work-")),
    logFile,
    region: "us-east-1",
    toolsDir: tools.binDir,
    environment: tools.environment({
      registryHost: REPOSITORY_URL.split("/")[0]!,
      imageTagMutability: options.mutability ?? "IMMUTABLE",
    }),
  });
  return { outcome, log: fs.readFileSync(logFile, "utf8") };
}

/** Runs `fn` with `dir` first on this process's PATH, as a machine with its own aws and docker would have. */
async function withPathFirst<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const original = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${original}`;
  try {
    return await fn();
  } finally {
    process.env.PATH = original;
  }
}

function registryImages(tools: SealedBuildTools): Record<string, string> {
  const repository = path.join(tools.registryDir, "slipway-images");
  if (!fs.existsSync(repository)) return {};
  return Object.fromEntries(
    fs.readdirSync(repository).map((tag) => [tag, fs.readFileSync(path.join(repository, tag), "utf8").trim()]),
  );
}

test("a build runs sealed: Slipway's aws and docker, never this machine's; the image lands in the local registry", async (t) => {
  const dir = folder.subfolder();
  const hostile = hostileTools(dir);
  const tools = await prepareSealedBuildTools({ stateDir: path.join(dir, "state"), docker: fakeEngine(dir) });
  t.true(tools.engineRunning);

  const { outcome, log } = await withPathFirst(hostile.bin, () => runSealed(dir, tools, "d-1"));
  t.is(outcome.status, "SUCCEEDED", log);
  for (const marker of hostile.markers) t.false(fs.existsSync(marker), `${path.basename(marker)}: ${log}`);
  t.is(log.match(/Login Succeeded/g)?.length, 2, "ECR Public and the local registry");
  t.regex(log, /fake engine built 000000000000\.dkr\.ecr\.us-east-1\.localhost\/slipway-images:d-1/);
  const images = registryImages(tools);
  t.deepEqual(Object.keys(images), ["d-1"]);
  t.true(log.includes(`pushed ${REPOSITORY_URL}@${images["d-1"]} as ${REPOSITORY_URL}:d-1`), log);
});

test("two users building the same commit get two images; a pushed tag is never replaced (IMMUTABLE)", async (t) => {
  const dir = folder.subfolder();
  const tools = await prepareSealedBuildTools({ stateDir: path.join(dir, "state"), docker: fakeEngine(dir) });
  const alice = await runSealed(dir, tools, "7f1c2d3e-a11c", { repository: "alice/landing" });
  const bob = await runSealed(dir, tools, "7f1c2d3e-0b0b", { repository: "bob/landing" });
  t.is(alice.outcome.status, "SUCCEEDED", alice.log);
  t.is(bob.outcome.status, "SUCCEEDED", bob.log);
  const images = registryImages(tools);
  t.deepEqual(Object.keys(images).sort(), ["7f1c2d3e-0b0b", "7f1c2d3e-a11c"]);
  t.not(images["7f1c2d3e-a11c"], images["7f1c2d3e-0b0b"], "two images");

  const again = await runSealed(dir, tools, "7f1c2d3e-a11c", { repository: "mallory/landing" });
  t.is(again.outcome.status, "FAILED", again.log);
  t.is(again.outcome.failedPhase, "post_build");
  t.regex(
    again.log,
    /The image tag '7f1c2d3e-a11c' already exists in the 'slipway-images' repository and cannot be overwritten/,
  );
  t.is(registryImages(tools)["7f1c2d3e-a11c"], images["7f1c2d3e-a11c"], "alice's image is untouched");
});

test("without Docker, the build fails at docker build saying so, and the banner says it first", async (t) => {
  const dir = folder.subfolder();
  const tools = await prepareSealedBuildTools({ stateDir: path.join(dir, "state"), docker: null });
  t.is(tools.docker, undefined);
  t.regex(
    describeSealedBuildTools(tools, dir),
    /sealed: aws and docker are Slipway's local stand-ins.*Docker is MISSING/,
  );

  const { outcome, log } = await runSealed(dir, tools, "d-2");
  t.is(outcome.status, "FAILED");
  t.is(outcome.failedPhase, "build");
  t.regex(log, /Docker is not installed: no 'docker' was on PATH when npm start began/);
  t.deepEqual(registryImages(tools), {});
});

test("this machine's Docker is found on PATH, never Slipway's own stand-in", async (t) => {
  const dir = folder.subfolder();
  const tools = await prepareSealedBuildTools({ stateDir: path.join(dir, "state"), docker: null });
  const machine = path.dirname(writeExecutable(path.join(dir, "usr-bin", "docker"), "#!/bin/sh\n"));
  t.is(findDocker([tools.binDir, machine].join(path.delimiter), tools.binDir), path.join(machine, "docker"));
  t.is(findDocker(tools.binDir, tools.binDir), undefined);
});

function exec(file: string, args: string[], env: Record<string, string>, input = "") {
  return new Promise<{ status: number; output: string }>((resolve) => {
    const child = execFile(file, args, { env, encoding: "utf8" }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr }),
    );
    // A stand-in that refuses a call exits without reading its input: the write then fails with EPIPE, which is
    // not what these tests are about (the exit status and output are).
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input);
  });
}

test("the stand-ins refuse every other AWS call, remote registries, and pushes that leave the machine", async (t) => {
  const dir = folder.subfolder();
  const tools = await prepareSealedBuildTools({ stateDir: path.join(dir, "state"), docker: fakeEngine(dir) });
  const env = {
    ...tools.environment({ registryHost: REPOSITORY_URL.split("/")[0]!, imageTagMutability: "IMMUTABLE" }),
    PATH: `${tools.binDir}:/usr/bin:/bin`,
  };
  const aws = path.join(tools.binDir, "aws");
  const docker = path.join(tools.binDir, "docker");

  const s3 = await exec(aws, ["s3", "ls"], env);
  t.is(s3.status, 255);
  t.regex(s3.output, /'aws s3 ls' is not available here; local builds reach no AWS account/);
  const publicElsewhere = await exec(aws, ["ecr-public", "get-login-password", "--region", "eu-west-1"], env);
  t.not(publicElsewhere.status, 0, "ECR Public's API is only in us-east-1");

  const password = (await exec(aws, ["ecr", "get-login-password", "--region", "us-east-1"], env)).output.trim();
  const remoteLogin = await exec(
    docker,
    ["login", "--username", "AWS", "--password-stdin", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"],
    env,
    password,
  );
  t.is(remoteLogin.status, 1);
  t.regex(remoteLogin.output, /logging in to 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com is refused/);
  const wrongPassword = await exec(
    docker,
    ["login", "--username", "AWS", "--password-stdin", REPOSITORY_URL.split("/")[0]!],
    env,
    "guess",
  );
  t.regex(wrongPassword.output, /401 Unauthorized/);

  const remotePush = await exec(docker, ["push", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"], env);
  t.is(remotePush.status, 1);
  t.regex(remotePush.output, /images go only to the local registry/);
  const pushingBuild = await exec(docker, ["build", "--push", "--tag", `${REPOSITORY_URL}:x`, "."], env);
  t.regex(pushingBuild.output, /docker build --push is refused/);
  const other = await exec(docker, ["buildx", "imagetools", "create"], env);
  t.regex(other.output, /'docker buildx' is not available in a local build/);
});

test("a failing phase fails the build, later phases are skipped but post_build runs knowing it failed", async (t) => {
  const dir = folder.subfolder();
  const outcome = await runBuild({
    build: build({ MARK: path.join(dir, "marks") }),
    buildspec: JSON.stringify({
      version: 0.2,
      phases: {
        pre_build: { commands: ['echo pre >> "$MARK"'] },
        build: { commands: ["false", 'echo after-false >> "$MARK"'] },
        post_build: { commands: ['echo "post $CODEBUILD_BUILD_SUCCEEDING" >> "$MARK"'] },
      },
    }),
    projectVariables: [],
    source: zipOf({ "x/": "" }),
    workDir: path.join(dir, "work"),
    logFile: path.join(dir, "build.log"),
    region: "us-east-1",
  });
  t.is(outcome.status, "FAILED");
  t.is(outcome.failedPhase, "build");
  t.deepEqual(fs.readFileSync(path.join(dir, "marks"), "utf8").trim().split("\n"), ["pre", "post 0"]);
});
