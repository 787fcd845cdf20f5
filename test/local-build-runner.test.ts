import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import test from "ava";
import { buildspecFor } from "../components/buildspecs";
import { createZip } from "../local/emulators/zip";
import type { EmulatedBuild } from "../local/emulators/aws/codeBuild";
import { runBuild } from "../local/platform/buildRunner";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function folder(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-build-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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

/** Recording stand-ins for `docker` and `aws` (no Docker engine here), first on PATH. */
function shims(dir: string): string {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  for (const tool of ["docker", "aws"]) {
    fs.writeFileSync(
      path.join(bin, tool),
      // `docker login --password-stdin` reads the password as the real one does: a shim that did not would make
      // `aws … | docker login` fail now and then on SIGPIPE under pipefail.
      `#!/bin/bash\necho "${tool} $*" >> "${dir}/calls.log"\n[ "$1 $2" = "ecr get-login-password" ] && echo password\n[ "$1" = "login" ] && cat > /dev/null\nexit 0\n`,
      { mode: 0o755 },
    );
  }
  return bin;
}

test("the static builder's real buildspec runs over a staged zipball: enters the repository, builds and pushes the deployment's tag", async (t) => {
  const dir = folder(t);
  const bin = shims(dir);
  const zip = createZip(
    [
      { path: "demo-landing-0123456/", content: Buffer.alloc(0) },
      { path: "demo-landing-0123456/index.html", content: Buffer.from("<h1>hi</h1>") },
    ],
    SHA,
  );
  const originalPath = process.env.PATH;
  process.env.PATH = `${bin}:${originalPath}`;
  try {
    const outcome = await runBuild({
      build: build({ DEPLOYMENT_ID: "d-1", COMMIT_SHA: SHA, REPOSITORY: "demo/landing", ROOT_DIRECTORY: "" }),
      buildspec: buildspecFor("static"),
      projectVariables: [
        { name: "IMAGE_REPOSITORY_URI", value: "000000000000.dkr.ecr.us-east-1.localhost/slipway-images" },
      ],
      source: zip,
      workDir: path.join(dir, "work"),
      logFile: path.join(dir, "build.log"),
      region: "us-east-1",
    });
    const log = fs.readFileSync(path.join(dir, "build.log"), "utf8");
    t.is(outcome.status, "SUCCEEDED", log);
    const calls = fs.readFileSync(path.join(dir, "calls.log"), "utf8");
    t.regex(calls, /docker build .*--tag 000000000000\.dkr\.ecr\.us-east-1\.localhost\/slipway-images:d-1/);
    t.regex(calls, /docker push 000000000000\.dkr\.ecr\.us-east-1\.localhost\/slipway-images:d-1/);
  } finally {
    process.env.PATH = originalPath;
  }
});

test("a failing phase fails the build, later phases are skipped but post_build runs knowing it failed", async (t) => {
  const dir = folder(t);
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
    source: createZip([{ path: "x/", content: Buffer.alloc(0) }], ""),
    workDir: path.join(dir, "work"),
    logFile: path.join(dir, "build.log"),
    region: "us-east-1",
  });
  t.is(outcome.status, "FAILED");
  t.is(outcome.failedPhase, "build");
  t.deepEqual(fs.readFileSync(path.join(dir, "marks"), "utf8").trim().split("\n"), ["pre", "post 0"]);
});
