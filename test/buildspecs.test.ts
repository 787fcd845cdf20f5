import anyTest, { type TestFn } from "ava";
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { BUILDERS, type Builder } from "../runtime/builders";
import {
  BUILD_ENV_HINTS,
  BUILDSPEC_FILES_DIR,
  buildspecFor,
  dockerfileFor,
  imageScriptsFor,
  isSafeHint,
  type GeneratedBuilder,
} from "../components/buildspecs";
import { useTestFolder } from "./helpers/testFolder";

// hadolint is neither a Debian (bookworm) package nor an npm package without a binary download, so the Dockerfiles
// are linted with dockerfile-utils (the validator behind VS Code's Dockerfile support); the shell they run is in
// components/buildspecs/image/*.sh, which shellcheck checks (CI), and which these tests execute.
//
// Every test here runs shell: they run one at a time (serial), each awaiting its processes, so each test's time is
// its own and no test waits behind another. One folder holds every run's files and goes when the file ends.
const test = anyTest.serial as TestFn;
const folder = useTestFolder("buildspecs");

const GENERATED: readonly GeneratedBuilder[] = BUILDERS.filter(
  (builder): builder is GeneratedBuilder => builder !== "docker",
);
const LIBRARY = "public.ecr.aws/docker/library/";
const IMAGE_REPOSITORY_URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway-apps";
const REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const DEPLOYMENT_ID = "5b0b7e2e-3d4c-4b8a-9f51-0d6c1c2e9a11";
const COMMIT_SHA = "0123456789abcdef0123456789abcdef01234567";
const TOP_FOLDER = "octo-shop-0123456";
const IMAGE_DIR = path.join(BUILDSPEC_FILES_DIR, "image");

interface ProcessResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end without blocking the event loop (ava's timers keep running). */
function exec(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { ...options, encoding: "utf8", maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

function writeExecutable(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode: 0o755 });
}

// ---------------------------------------------------------------------------------------------------------------
// A CodeBuild-like run of a buildspec: bash, $CODEBUILD_SRC_DIR, and `docker`/`aws` replaced by recorders. The fake
// docker keeps a registry with immutable tags, as the stack's ECR repository is: pushing a tag again fails.
// ---------------------------------------------------------------------------------------------------------------

interface RecordedCall {
  readonly tool: string;
  readonly cwd: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  /** Content of the file passed to `docker build --file`, copied when it was called. */
  readonly dockerfile?: string;
  /** The files of the build context `slipway` (`--build-context slipway=<dir>`), copied when it was called. */
  readonly scripts?: Record<string, string>;
}

interface BuildspecRun {
  readonly failedPhase?: string;
  readonly pushed: boolean;
  readonly output: string;
  readonly calls: readonly RecordedCall[];
  readonly root: string;
  readonly appDir: string;
}

// Both ends of `aws … | docker login` record at once: the counter is taken under a lock.
const RECORDER = `#!/usr/bin/env bash
set -euo pipefail
exec 9>>"$RECORD_DIR/lock"
flock 9
count=$(( $(cat "$RECORD_DIR/count" 2>/dev/null || echo 0) + 1 ))
echo "$count" > "$RECORD_DIR/count"
flock -u 9
call="$RECORD_DIR/call-$(printf %04d "$count")"
printf '%s\\0' "$(basename "$0")" "$PWD" "$@" > "$call"
`;

/** Images are named by the digest of their build arguments; the registry is one file per pushed tag. */
const FAKE_DOCKER = `${RECORDER}
entry() { printf '%s' "$REGISTRY_DIR/$(printf '%s' "$1" | tr '/:' '__')"; }
case "\${1:-}" in
  login) cat > "$call.stdin" ;;
  build)
    previous=""
    for arg in "$@"; do
      if [ "$previous" = --file ]; then cp "$arg" "$call.dockerfile"; fi
      if [ "$previous" = --build-context ]; then cp -R "\${arg#slipway=}" "$call.scripts"; fi
      if [ "$previous" = --tag ]; then tag="$arg"; fi
      previous="$arg"
    done
    if [ -n "\${FAKE_DOCKER_BUILD_FAILS:-}" ]; then echo "fake docker: build failed" >&2; exit 1; fi
    mkdir -p "$RECORD_DIR/images"
    printf 'sha256:%s' "$(printf '%s\\n' "$@" | sha256sum | cut -c1-64)" > "$RECORD_DIR/images/$(printf '%s' "$tag" | tr '/:' '__')" ;;
  push)
    image="$RECORD_DIR/images/$(printf '%s' "$2" | tr '/:' '__')"
    [ -f "$image" ] || { echo "An image does not exist locally with the tag: $2" >&2; exit 1; }
    if [ -f "$(entry "$2")" ]; then
      echo "tag invalid: The image tag '\${2##*:}' already exists in the 'slipway-apps' repository and cannot be overwritten because the repository is immutable." >&2
      exit 1
    fi
    cp "$image" "$(entry "$2")"
    echo "\${2##*:}: digest: $(cat "$image") size: 1234" ;;
  image) last="\${*: -1}"; printf '%s@%s\\n' "\${last%:*}" "$(cat "$(entry "$last")")" ;;
esac
`;

const FAKE_AWS = `${RECORDER}
case "\${1:-} \${2:-}" in
  "ecr get-login-password") echo fake-ecr-password ;;
  "ecr-public get-login-password") echo fake-ecr-public-password ;;
esac
`;

function readCalls(recordDir: string): RecordedCall[] {
  return fs
    .readdirSync(recordDir)
    .filter((name) => /^call-\d+$/.test(name))
    .sort()
    .map((name) => {
      const [tool = "", cwd = "", ...args] = fs
        .readFileSync(path.join(recordDir, name), "utf8")
        .split("\0")
        .slice(0, -1);
      const extra = (suffix: string) => {
        const file = path.join(recordDir, name + suffix);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      };
      const scriptsDir = path.join(recordDir, `${name}.scripts`);
      const scripts = fs.existsSync(scriptsDir)
        ? Object.fromEntries(
            fs.readdirSync(scriptsDir).map((file) => [file, fs.readFileSync(path.join(scriptsDir, file), "utf8")]),
          )
        : undefined;
      return {
        tool,
        cwd,
        args,
        stdin: extra(".stdin"),
        dockerfile: extra(".dockerfile"),
        ...(scripts ? { scripts } : {}),
      };
    });
}

interface Phases {
  readonly pre_build: { readonly commands: readonly string[] };
  readonly build: { readonly commands: readonly string[] };
  readonly post_build: { readonly commands: readonly string[] };
}

function parseBuildspec(builder: Builder): { version: number; env: { shell: string }; phases: Phases } {
  return JSON.parse(buildspecFor(builder));
}

interface RunOptions {
  /** Files under $CODEBUILD_SRC_DIR, e.g. `octo-shop-0123456/package.json`. */
  readonly source: Record<string, string>;
  readonly env?: Record<string, string | undefined>;
  /** "separate": each command in its own bash; "shared": all in one bash, as buildspec 0.2 keeps state. */
  readonly shells?: "separate" | "shared";
  readonly prepare?: (srcDir: string) => void;
  /** The registry the fake docker pushes to; a run's own by default. */
  readonly registryDir?: string;
}

async function runBuildspec(builder: Builder, options: RunOptions): Promise<BuildspecRun> {
  const root = folder.subfolder(builder);
  const srcDir = path.join(root, "codebuild", "src");
  const bin = path.join(root, "bin");
  const recordDir = path.join(root, "record");
  const registryDir = options.registryDir ?? path.join(root, "registry");
  fs.mkdirSync(srcDir, { recursive: true });
  fs.mkdirSync(recordDir);
  fs.mkdirSync(registryDir, { recursive: true });
  writeFiles(srcDir, options.source);
  options.prepare?.(srcDir);
  writeExecutable(path.join(bin, "docker"), FAKE_DOCKER);
  writeExecutable(path.join(bin, "aws"), FAKE_AWS);

  const env: Record<string, string> = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: root,
    TMPDIR: path.join(root, "tmp"),
    RECORD_DIR: recordDir,
    REGISTRY_DIR: registryDir,
    AWS_REGION: "eu-west-1",
    CODEBUILD_SRC_DIR: srcDir,
    CODEBUILD_BUILD_ID: "slipway-node-dev:1",
    IMAGE_REPOSITORY_URI,
    SLIPWAY_BUILDER: builder,
    DEPLOYMENT_ID,
    COMMIT_SHA,
    REPOSITORY: "octo/shop",
    ROOT_DIRECTORY: "",
    FRAMEWORK: "express",
  };
  fs.mkdirSync(env.TMPDIR!);
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }

  const { phases } = parseBuildspec(builder);
  let output = "";
  const bash = async (script: string, extra: Record<string, string> = {}) => {
    const result = await exec("bash", ["-c", script], { cwd: srcDir, env: { ...env, ...extra } });
    output += result.stdout + result.stderr;
    return result.status === 0;
  };
  const all = async (commands: readonly string[], extra: Record<string, string> = {}) => {
    for (const command of commands) if (!(await bash(command, extra))) return false;
    return true;
  };

  let failedPhase: string | undefined;
  if (options.shells === "shared") {
    const commands = [...phases.pre_build.commands, ...phases.build.commands, ...phases.post_build.commands];
    if (!(await bash(commands.join("\n"), { CODEBUILD_BUILD_SUCCEEDING: "1" }))) failedPhase = "shared";
  } else if (!(await all(phases.pre_build.commands))) {
    // CodeBuild skips build after a failed pre_build; post_build runs after build either way.
    failedPhase = "pre_build";
  } else {
    const built = await all(phases.build.commands, { CODEBUILD_BUILD_SUCCEEDING: "1" });
    if (!built) failedPhase = "build";
    const pushed = await all(phases.post_build.commands, { CODEBUILD_BUILD_SUCCEEDING: built ? "1" : "0" });
    if (built && !pushed) failedPhase = "post_build";
  }
  const calls = readCalls(recordDir);
  const appDir = path.join(srcDir, TOP_FOLDER, env.ROOT_DIRECTORY ?? "");
  return { failedPhase, output, calls, root, appDir, pushed: calls.some((call) => call.args[0] === "push") };
}

function dockerBuilds(run: BuildspecRun): RecordedCall[] {
  return run.calls.filter((call) => call.tool === "docker" && call.args[0] === "build");
}

function pushes(run: BuildspecRun): string[] {
  return run.calls.filter((call) => call.args[0] === "push").map((call) => call.args[1]!);
}

/** The value following each occurrence of a flag. */
function flagValues(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && i + 1 < args.length ? [args[i + 1]!] : []));
}

const NODE_APP = {
  [`${TOP_FOLDER}/README.md`]: "# shop\n",
  [`${TOP_FOLDER}/apps/web/package.json`]: JSON.stringify({
    name: "web",
    scripts: { build: "vite build", start: "node server.js" },
  }),
  [`${TOP_FOLDER}/apps/web/pnpm-lock.yaml`]: "lockfileVersion: '9.0'\n",
};

// ---------------------------------------------------------------------------------------------------------------
// Buildspec shape
// ---------------------------------------------------------------------------------------------------------------

test("every buildspec: JSON, version 0.2, bash, three phases of strict commands, one tag (the deployment id)", async (t) => {
  const commandsDir = folder.subfolder("commands");
  for (const builder of BUILDERS) {
    const text = buildspecFor(builder);
    const buildspec = parseBuildspec(builder);
    t.is(buildspec.version, 0.2);
    t.is(buildspec.env.shell, "bash");
    t.true(text.startsWith('{\n  "version": 0.2,'), "pretty-printed with two spaces");
    const commands = Object.values(buildspec.phases).flatMap((phase) => phase.commands);
    for (const phase of ["pre_build", "build", "post_build"] as const) {
      t.true(buildspec.phases[phase].commands.length > 0, `${builder} ${phase}`);
    }
    const build = buildspec.phases.build.commands.join("\n");
    t.true(build.includes('--tag "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID"'));
    t.false(build.includes("$IMAGE_REPOSITORY_URI:$COMMIT_SHA"), "no tag another deployment of the commit could reuse");
    t.is(build.match(/--tag /g)?.length, 1, "one tag");
    const post = buildspec.phases.post_build.commands.join("\n");
    t.true(post.includes("CODEBUILD_BUILD_SUCCEEDING"));
    commands.forEach((command, i) => {
      t.regex(
        command,
        /^#!\/usr\/bin\/env bash\n(#[^\n]*\n)*set -euo pipefail\n/,
        "every command is strict on its own",
      );
      fs.writeFileSync(path.join(commandsDir, `${builder}-${i}.sh`), command);
    });
  }
  // One bash parses every command file.
  const syntax = await exec("bash", ["-c", 'for file in "$0"/*.sh; do bash -n "$file" || exit 1; done', commandsDir]);
  t.is(syntax.status, 0, syntax.stderr);
});

test("the buildspec logs in to ECR Public in us-east-1 before anything pulls a base image", (t) => {
  const preBuild = parseBuildspec("node").phases.pre_build.commands.join("\n");
  t.regex(
    preBuild,
    /aws ecr-public get-login-password --region us-east-1 \|\s*docker login --username AWS --password-stdin public\.ecr\.aws/,
  );
  t.true(preBuild.indexOf("ecr-public") < preBuild.indexOf("aws ecr get-login-password"));
});

const HAS_SHELLCHECK = (() => {
  try {
    execFileSync("shellcheck", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

// CI installs shellcheck (.ci/run) and checks every .sh file; here the assembled commands are checked too, since the
// build command wraps the scripts with the generated files. Without shellcheck on this machine the test is skipped.
(HAS_SHELLCHECK ? test : test.skip)("shellcheck finds nothing in the assembled buildspec commands", async (t) => {
  const dir = folder.subfolder("shellcheck");
  const files = BUILDERS.flatMap((builder) =>
    Object.values(parseBuildspec(builder).phases)
      .flatMap((phase) => phase.commands)
      .map((command, i) => {
        const file = path.join(dir, `${builder}-${i}.sh`);
        fs.writeFileSync(file, command);
        return file;
      }),
  );
  const result = await exec("shellcheck", ["--shell=bash", ...files]);
  t.is(result.status, 0, result.stdout + result.stderr);
});

// ---------------------------------------------------------------------------------------------------------------
// Executing the buildspec
// ---------------------------------------------------------------------------------------------------------------

test("node: logs in to ECR Public and ECR, enters ROOT_DIRECTORY, builds the generated Dockerfile with hints, pushes the deployment's tag", async (t) => {
  const run = await runBuildspec("node", {
    source: NODE_APP,
    env: {
      ROOT_DIRECTORY: "apps/web",
      RUNTIME_VERSION: "20",
      PACKAGE_MANAGER: "pnpm",
      BUILD_COMMAND: "pnpm run build:prod",
    },
  });
  t.is(run.failedPhase, undefined, run.output);

  // The two ends of each login pipeline start together, in either order.
  const [first, second, third, fourth, build, push, inspect, ...rest] = run.calls;
  t.deepEqual(rest, []);
  const publicLogin = [first, second];
  t.deepEqual(publicLogin.find((call) => call?.tool === "aws")?.args, [
    "ecr-public",
    "get-login-password",
    "--region",
    "us-east-1",
  ]);
  const publicDockerLogin = publicLogin.find((call) => call?.tool === "docker");
  t.deepEqual(publicDockerLogin?.args, ["login", "--username", "AWS", "--password-stdin", "public.ecr.aws"]);
  t.is(publicDockerLogin?.stdin, "fake-ecr-public-password\n");
  const login = [third, fourth];
  t.deepEqual(login.find((call) => call?.tool === "aws")?.args, ["ecr", "get-login-password", "--region", "eu-west-1"]);
  const dockerLogin = login.find((call) => call?.tool === "docker");
  t.deepEqual(dockerLogin?.args, ["login", "--username", "AWS", "--password-stdin", REGISTRY]);
  t.is(dockerLogin?.stdin, "fake-ecr-password\n");

  t.truthy(build);
  t.is(build!.cwd, run.appDir, "builds from ROOT_DIRECTORY inside the single top-level folder");
  t.is(build!.args.at(-1), ".");
  t.deepEqual(flagValues(build!.args, "--tag"), [`${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`]);
  t.deepEqual(flagValues(build!.args, "--label"), [
    `org.opencontainers.image.revision=${COMMIT_SHA}`,
    "org.opencontainers.image.source=https://github.com/octo/shop",
    `dev.slipway.deployment-id=${DEPLOYMENT_ID}`,
  ]);
  t.deepEqual(flagValues(build!.args, "--build-arg"), [
    "BUILD_COMMAND=pnpm run build:prod",
    "RUNTIME_VERSION=20",
    "PACKAGE_MANAGER=pnpm",
  ]);
  const [dockerfilePath] = flagValues(build!.args, "--file");
  t.truthy(dockerfilePath);
  t.false(dockerfilePath!.startsWith(run.appDir), "the generated Dockerfile stays out of the build context");
  t.is(build!.dockerfile, dockerfileFor("node"));
  const [context] = flagValues(build!.args, "--build-context");
  t.regex(context!, /^slipway=\//);
  t.false(context!.slice("slipway=".length).startsWith(run.appDir), "the scripts stay out of the build context");
  t.deepEqual(build!.scripts, imageScriptsFor("node"), "the Dockerfile's scripts, as they are in the repository");
  t.false(fs.existsSync(path.join(run.appDir, "Dockerfile")));

  t.deepEqual(push?.args, ["push", `${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`]);
  t.deepEqual(inspect?.args.slice(0, 2), ["image", "inspect"]);
  t.regex(run.output, new RegExp(`pushed ${IMAGE_REPOSITORY_URI}@sha256:[0-9a-f]{64} as ${IMAGE_REPOSITORY_URI}:`));
});

test("two users deploying the same commit get two images", async (t) => {
  const registryDir = folder.subfolder("registry");
  const deploy = (deploymentId: string, repository: string) =>
    runBuildspec("node", {
      source: NODE_APP,
      registryDir,
      env: { ROOT_DIRECTORY: "apps/web", DEPLOYMENT_ID: deploymentId, REPOSITORY: repository },
    });
  // A fork shares the commit; so does a second deployment of the same repository.
  const alice = await deploy("7f1c2d3e-0000-4000-8000-00000000a11c", "alice/shop");
  const bob = await deploy("7f1c2d3e-0000-4000-8000-000000000b0b", "bob/shop");
  t.is(alice.failedPhase, undefined, alice.output);
  t.is(bob.failedPhase, undefined, bob.output);
  t.deepEqual(pushes(alice), [`${IMAGE_REPOSITORY_URI}:7f1c2d3e-0000-4000-8000-00000000a11c`]);
  t.deepEqual(pushes(bob), [`${IMAGE_REPOSITORY_URI}:7f1c2d3e-0000-4000-8000-000000000b0b`]);
  const images = fs.readdirSync(registryDir).map((tag) => fs.readFileSync(path.join(registryDir, tag), "utf8"));
  t.is(images.length, 2);
  t.not(images[0], images[1], "two images");
});

test("a tag is never pushed twice (immutable repository): the same deployment's build cannot replace its image", async (t) => {
  const registryDir = folder.subfolder("registry");
  // The repository already holds this deployment's image (an earlier build of it pushed), as the fake docker keeps it.
  const tag = `${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`;
  fs.writeFileSync(path.join(registryDir, tag.replace(/[/:]/g, "_")), "sha256:an-earlier-image");
  const again = await runBuildspec("node", { source: NODE_APP, registryDir, env: { ROOT_DIRECTORY: "apps/web" } });
  t.is(again.failedPhase, "post_build");
  t.regex(again.output, /already exists in the 'slipway-apps' repository and cannot be overwritten/);
  t.is(fs.readFileSync(path.join(registryDir, tag.replace(/[/:]/g, "_")), "utf8"), "sha256:an-earlier-image");
});

test("the same commands work when CodeBuild runs them all in one shell", async (t) => {
  const run = await runBuildspec("node", { source: NODE_APP, env: { ROOT_DIRECTORY: "apps/web" }, shells: "shared" });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.is(build?.cwd, run.appDir);
  t.deepEqual(pushes(run), [`${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`]);
});

test("hostile hints reach docker as data and run nothing", async (t) => {
  const root = folder.subfolder("hostile");
  const marker = (n: number) => path.join(root, `pwned-${n}`);
  const hostile = {
    START_COMMAND: `$(touch ${marker(1)}) "double" 'single' ; touch ${marker(2)} \`touch ${marker(3)}\` | tee ${marker(4)}`,
    BUILD_COMMAND: `'; touch ${marker(5)}; echo '$(touch ${marker(6)})" && touch ${marker(7)} #`,
    PACKAGE_MANAGER: `npm$(touch ${marker(8)})`,
    RUNTIME_VERSION: `20$(touch ${marker(9)})`,
  };
  for (const value of Object.values(hostile)) t.true(isSafeHint(value), "printable one-liners pass the filter");

  const run = await runBuildspec("node", { source: NODE_APP, env: { ROOT_DIRECTORY: "apps/web", ...hostile } });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.deepEqual(flagValues(build!.args, "--build-arg"), [
    `BUILD_COMMAND=${hostile.BUILD_COMMAND}`,
    `START_COMMAND=${hostile.START_COMMAND}`,
    `PACKAGE_MANAGER=${hostile.PACKAGE_MANAGER}`,
  ]);
  t.true(run.output.includes("ignoring RUNTIME_VERSION"), "a version that is no version is dropped, not passed on");
  for (let n = 1; n <= 9; n++) t.false(fs.existsSync(marker(n)), `marker ${n} was created`);
  t.false(fs.existsSync(path.join(run.appDir, "#")));
});

test("an app's own Dockerfile wins over the builder's, without the hint build args or the scripts", async (t) => {
  const run = await runBuildspec("node", {
    source: { ...NODE_APP, [`${TOP_FOLDER}/apps/web/Dockerfile`]: "FROM scratch\n" },
    env: { ROOT_DIRECTORY: "apps/web", START_COMMAND: "node server.js" },
  });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.is(build?.cwd, run.appDir);
  t.deepEqual(flagValues(build!.args, "--file"), []);
  t.deepEqual(flagValues(build!.args, "--build-context"), []);
  t.deepEqual(flagValues(build!.args, "--build-arg"), []);
  t.is(flagValues(build!.args, "--tag").length, 1);
  t.true(run.output.includes("the app's own Dockerfile"));
  t.true(run.pushed);
});

test("docker builder: builds the app's Dockerfile at the repository root; without one it fails and pushes nothing", async (t) => {
  const run = await runBuildspec("docker", {
    source: { [`${TOP_FOLDER}/Dockerfile`]: "FROM scratch\n", [`${TOP_FOLDER}/main.go`]: "package main\n" },
  });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.is(build?.cwd, path.join(run.root, "codebuild", "src", TOP_FOLDER));
  t.deepEqual(flagValues(build!.args, "--file"), []);
  t.true(run.pushed);

  const missing = await runBuildspec("docker", {
    source: { [`${TOP_FOLDER}/services/api/main.go`]: "package main\n" },
    env: { ROOT_DIRECTORY: "services/api" },
  });
  t.is(missing.failedPhase, "build");
  t.true(
    missing.output.includes("the docker builder builds the app's own Dockerfile, and services/api has none"),
    missing.output,
  );
  t.deepEqual(dockerBuilds(missing), []);
  t.false(missing.pushed);
  t.true(missing.output.includes("no image was pushed"));
});

for (const builder of GENERATED) {
  test(`${builder}: the build writes exactly dockerfileFor and imageScriptsFor`, async (t) => {
    const run = await runBuildspec(builder, { source: { [`${TOP_FOLDER}/app.txt`]: "app\n" } });
    t.is(run.failedPhase, undefined, run.output);
    const [build] = dockerBuilds(run);
    t.is(build?.dockerfile, dockerfileFor(builder));
    t.deepEqual(build?.scripts, imageScriptsFor(builder));
    t.true(run.output.includes(`generated ${builder} Dockerfile`));
    t.true(run.pushed);
  });
}

const SOURCE_LAYOUT_FAILURES: readonly [title: string, source: Record<string, string>][] = [
  ["no top-level folder", {}],
  ["two top-level folders", { [`${TOP_FOLDER}/a.txt`]: "a", "octo-shop-fedcba9/b.txt": "b" }],
  ["a file beside the folder", { [`${TOP_FOLDER}/a.txt`]: "a", "stray.txt": "b" }],
  ["one file and no folder", { "source.txt": "a" }],
];

test("a source archive without exactly one top-level folder fails pre_build with the reason", async (t) => {
  for (const [title, source] of SOURCE_LAYOUT_FAILURES) {
    const run = await runBuildspec("node", { source });
    t.is(run.failedPhase, "pre_build", title);
    t.true(run.output.includes("the source archive must hold exactly one top-level folder"), run.output);
    t.deepEqual(dockerBuilds(run), [], title);
    t.false(run.pushed, title);
  }
});

const ROOT_DIRECTORY_FAILURES: readonly [rootDirectory: string, message: string][] = [
  ["../x", "may not leave the repository with '..'"],
  ["apps/../../x", "may not leave the repository with '..'"],
  ["..", "may not leave the repository with '..'"],
  ["/etc", "must be relative to the repository root"],
  ["apps/missing", "is not a folder of octo/shop at " + COMMIT_SHA],
  ["escape", "leads outside the repository"],
];

test("a ROOT_DIRECTORY outside the repository, absolute or missing fails before anything is built", async (t) => {
  for (const [rootDirectory, message] of ROOT_DIRECTORY_FAILURES) {
    const run = await runBuildspec("node", {
      source: NODE_APP,
      env: { ROOT_DIRECTORY: rootDirectory },
      // A symbolic link in the repository pointing out of it.
      prepare: (srcDir) => fs.symlinkSync(path.dirname(srcDir), path.join(srcDir, TOP_FOLDER, "escape")),
    });
    t.is(run.failedPhase, "pre_build", rootDirectory);
    t.true(run.output.includes(message), `${rootDirectory}: ${run.output}`);
    t.deepEqual(dockerBuilds(run), [], rootDirectory);
  }
});

test("ROOT_DIRECTORY with ./ and a trailing slash still lands in the app", async (t) => {
  const run = await runBuildspec("node", { source: NODE_APP, env: { ROOT_DIRECTORY: "./apps/web/" } });
  t.is(run.failedPhase, undefined, run.output);
  t.is(dockerBuilds(run)[0]?.cwd, path.join(run.root, "codebuild", "src", TOP_FOLDER, "apps", "web"));
});

test("a failed docker build runs post_build without pushing", async (t) => {
  const run = await runBuildspec("node", {
    source: NODE_APP,
    env: { ROOT_DIRECTORY: "apps/web", FAKE_DOCKER_BUILD_FAILS: "1" },
  });
  t.is(run.failedPhase, "build");
  t.is(dockerBuilds(run).length, 1);
  t.false(run.pushed);
  t.true(run.output.includes("the build failed, so no image was pushed"));
});

test("missing or malformed build variables fail in pre_build, naming the variable", async (t) => {
  const missing = await runBuildspec("node", { source: NODE_APP, env: { COMMIT_SHA: undefined } });
  t.is(missing.failedPhase, "pre_build");
  t.true(missing.output.includes("COMMIT_SHA is not set"), missing.output);

  const short = await runBuildspec("node", { source: NODE_APP, env: { COMMIT_SHA: "0123abc" } });
  t.is(short.failedPhase, "pre_build");
  t.true(short.output.includes("COMMIT_SHA must be a full 40-character commit SHA"), short.output);

  const badTag = await runBuildspec("node", { source: NODE_APP, env: { DEPLOYMENT_ID: "../x" } });
  t.is(badTag.failedPhase, "pre_build");
  t.true(badTag.output.includes("cannot be an image tag"), badTag.output);
  t.deepEqual(dockerBuilds(badTag), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Hints
// ---------------------------------------------------------------------------------------------------------------

test("BUILD_ENV_HINTS names the four optional hints, the ones build-image.sh passes on", (t) => {
  t.deepEqual([...BUILD_ENV_HINTS].sort(), ["BUILD_COMMAND", "PACKAGE_MANAGER", "RUNTIME_VERSION", "START_COMMAND"]);
  const script = fs.readFileSync(path.join(BUILDSPEC_FILES_DIR, "buildspec", "build-image.sh"), "utf8");
  t.true(script.includes(`for slipway_hint in ${BUILD_ENV_HINTS.join(" ")}; do`));
});

test("isSafeHint: printable single lines up to 500 characters", (t) => {
  t.true(isSafeHint("gunicorn app:app --workers 2"));
  t.true(isSafeHint("x".repeat(500)));
  t.false(isSafeHint("x".repeat(501)));
  t.false(isSafeHint("npm start\nrm -rf /"));
  t.false(isSafeHint("npm start\r"));
  t.false(isSafeHint("a\tb"));
  t.false(isSafeHint("a\u0000b"));
  t.false(isSafeHint("a\u001bb"));
  t.false(isSafeHint("a\u007fb"));
  t.false(isSafeHint("a\u2028b"));
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfiles: structure and lint
// ---------------------------------------------------------------------------------------------------------------

interface Stage {
  readonly from: Instruction;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

function stagesOf(dockerfile: string): { initialArgs: Map<string, string>; stages: Stage[] } {
  const parsed = DockerfileParser.parse(dockerfile);
  const initialArgs = new Map<string, string>();
  const stages: { from: Instruction; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === "FROM") {
      const args = instruction.getArguments().map((arg) => arg.getValue());
      const asIndex = args.findIndex((arg) => arg.toUpperCase() === "AS");
      stages.push({ from: instruction, name: asIndex >= 0 ? args[asIndex + 1] : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== "ARG") throw new Error(`only ARG may precede the first FROM, found ${keyword}`);
      const [name, value = ""] = instruction.getArgumentsContent()!.split("=");
      initialArgs.set(name!, value);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { initialArgs, stages };
}

function expand(text: string, variables: Map<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = variables.get(name);
    if (value === undefined) throw new Error(`undefined variable ${name} in ${text}`);
    return value;
  });
}

function argNames(stage: Stage): string[] {
  return stage.instructions
    .filter((instruction) => instruction.getKeyword() === "ARG")
    .map((instruction) => instruction.getArgumentsContent()!.split("=")[0]!);
}

/** A RUN's flags, as written (`--mount=…`). */
function flagsOf(instruction: Instruction): string[] {
  const flags = (instruction as unknown as { getFlags?(): { toString(): string }[] }).getFlags?.() ?? [];
  return flags.map((flag) => flag.toString());
}

/** The hints each builder's Dockerfile honours (static sites have no start command: nginx serves them). */
const HONOURED_HINTS: Readonly<Record<GeneratedBuilder, readonly string[]>> = {
  node: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND", "PACKAGE_MANAGER"],
  python: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND", "PACKAGE_MANAGER"],
  static: ["RUNTIME_VERSION", "BUILD_COMMAND", "PACKAGE_MANAGER"],
  maven: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND"],
  gradle: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND"],
  go: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND"],
  rust: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND"],
  ruby: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND"],
  php: ["RUNTIME_VERSION", "BUILD_COMMAND", "START_COMMAND"],
};

/** A RUN the Dockerfiles may keep inline: one package installation (or user creation) command, nothing else. */
const INLINE_RUN = /^(apt-get update && apt-get install |apk add |docker-php-ext-install |useradd )/;

for (const builder of GENERATED) {
  test(`${builder}: Dockerfile is multi-stage from public.ecr.aws, non-root, exposes PORT, starts with slipway-start`, (t) => {
    const dockerfile = dockerfileFor(builder);
    const { initialArgs, stages } = stagesOf(dockerfile);
    t.true(stages.length >= 2, "multi-stage");
    t.true(initialArgs.has("RUNTIME_VERSION"));

    const stageNames = new Set<string>();
    for (const stage of stages) {
      const image = expand(stage.from.getArguments()[0]!.getValue(), initialArgs);
      t.true(image.startsWith(LIBRARY) || stageNames.has(image), `${image} comes from ${LIBRARY}`);
      t.regex(image, stageNames.has(image) ? /./ : /:[\w.-]+$/, `${image} names a tag`);
      t.false(image.endsWith(":latest"));
      if (stage.name) stageNames.add(stage.name);
      for (const copy of stage.instructions.filter((instruction) => instruction.getKeyword() === "COPY")) {
        const from = flagsOf(copy)
          .find((flag) => flag.startsWith("--from="))
          ?.slice("--from=".length);
        if (from) {
          t.true(from.startsWith(LIBRARY) || stageNames.has(from) || from === "slipway", `COPY --from=${from}`);
        }
      }
    }
    t.true(stageNames.has("build"), "a stage named build");

    const final = stages.at(-1)!;
    t.is(final.name, undefined, "the final stage is the image");
    const keywords = final.instructions.map((instruction) => instruction.getKeyword());
    const users = final.instructions.filter((instruction) => instruction.getKeyword() === "USER");
    t.is(users.length, 1);
    const user = users[0]!.getArgumentsContent()!;
    t.false(["root", "0", "0:0", "root:root"].includes(user), `runs as ${user}`);
    t.true(keywords.lastIndexOf("USER") > keywords.lastIndexOf("RUN"), "nothing runs as root after USER");
    t.deepEqual(
      final.instructions
        .filter((instruction) => instruction.getKeyword() === "EXPOSE")
        .map((i) => i.getArgumentsContent()),
      ["${PORT}"],
    );
    const portArg = final.instructions.find((i) => i.getKeyword() === "ARG" && i.getArgumentsContent() === "PORT=8080");
    t.truthy(portArg, "PORT defaults to 8080");
    t.true(
      final.instructions.some(
        (i) => i.getKeyword() === "ENV" && /(^|\s)PORT=\$\{PORT\}/.test(i.getArgumentsContent()!),
      ),
      "the app gets PORT in its environment",
    );
    const cmds = final.instructions.filter((instruction) => instruction.getKeyword() === "CMD");
    t.is(cmds.length, 1);
    const cmd = JSON.parse(cmds[0]!.getArgumentsContent()!) as string[];
    if (builder === "static") {
      t.deepEqual(cmd, ["nginx", "-g", "daemon off;"]);
    } else {
      t.deepEqual(cmd, ["/usr/local/bin/slipway-start", builder], "CMD in JSON form, the builder's start");
      const copyStart = final.instructions.find(
        (i) => i.getKeyword() === "COPY" && i.getArgumentsContent() === "start.sh /usr/local/bin/slipway-start",
      );
      t.truthy(copyStart, "start.sh is the image's slipway-start");
      t.deepEqual(flagsOf(copyStart!), ["--from=slipway", "--chmod=0755"]);
    }

    const declared = new Set([...initialArgs.keys(), ...stages.flatMap(argNames)]);
    for (const hint of BUILD_ENV_HINTS) {
      t.is(declared.has(hint), HONOURED_HINTS[builder].includes(hint), `ARG ${hint}`);
    }
  });

  test(`${builder}: Dockerfile passes dockerfile-utils; every RUN is a script of the slipway context or one install`, (t) => {
    const dockerfile = dockerfileFor(builder);
    t.deepEqual(
      validate(dockerfile).map((diagnostic) => `${diagnostic.range.start.line + 1}: ${diagnostic.message}`),
      [],
    );
    const runs = DockerfileParser.parse(dockerfile)
      .getInstructions()
      .filter((instruction) => instruction.getKeyword() === "RUN");
    t.true(runs.length > 0);
    for (const run of runs) {
      const command = run.getArgumentsContent()!;
      const script = /^sh \/slipway\/([\w-]+\.sh)( |$)/.exec(command)?.[1];
      if (script) {
        t.deepEqual(flagsOf(run), ["--mount=type=bind,from=slipway,target=/slipway"], command);
        t.true(script in imageScriptsFor(builder), `${script} reaches the build`);
        t.true(fs.existsSync(path.join(IMAGE_DIR, script)), `${script} exists`);
      } else {
        t.regex(command, INLINE_RUN, "anything longer than one install is a script shellcheck can read");
      }
    }
  });
}

test("the validator used above does report a broken Dockerfile", (t) => {
  const broken = dockerfileFor("node").replace("EXPOSE ${PORT}", "EXPOSE ${PORT} tcp/x").replace("COPY . .", "COPY .");
  t.true(validate(broken).length >= 2);
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfiles: their build scripts executed, with the build tools replaced by recorders
// ---------------------------------------------------------------------------------------------------------------

/** Real tools the build scripts may use; anything else they call must be a fake. */
const REAL_TOOLS = [
  "sh",
  "sed",
  "grep",
  "find",
  "cp",
  "mv",
  "mkdir",
  "rm",
  "ln",
  "cat",
  "head",
  "sort",
  "mktemp",
  "chmod",
  "ls",
  "tr",
  "wc",
  "touch",
  "basename",
  "dirname",
  "env",
  "node",
  "jar",
  "tee",
];

const BUILD_TOOLS = [
  "npm",
  "pnpm",
  "yarn",
  "bun",
  "corepack",
  "mvn",
  "gradle",
  "java",
  "go",
  "cargo",
  "pip",
  "python",
  "poetry",
  "uv",
  "pipenv",
  "bundle",
  "composer",
  "gunicorn",
  "apache2-foreground",
];

/** The real tools, linked once into one folder for every run (found with one shell, not one per tool and run). */
let realBin: Promise<string> | undefined;
function realTools(): Promise<string> {
  realBin ??= (async () => {
    const dir = path.join(folder.root, "real-bin");
    fs.mkdirSync(dir);
    const found = await exec("bash", [
      "-c",
      'for tool in "$@"; do command -v "$tool" || echo "missing $tool"; done',
      "-",
      ...REAL_TOOLS,
    ]);
    const paths = found.stdout.trim().split("\n");
    const missing = paths.filter((line) => line.startsWith("missing "));
    if (missing.length > 0) throw new Error(`needed to run the build scripts: ${missing.join(", ")}`);
    REAL_TOOLS.forEach((tool, i) => fs.symlinkSync(fs.realpathSync(paths[i]!), path.join(dir, tool)));
    return dir;
  })();
  return realBin;
}

interface StageRun {
  readonly ok: boolean;
  readonly output: string;
  /** One line per fake tool call: `tool arg arg…`. */
  readonly calls: readonly string[];
  readonly workdir: string;
  readonly root: string;
}

interface ScriptOptions {
  readonly files?: Record<string, string>;
  readonly args?: Record<string, string>;
  /** Extra shell run by a fake tool after it records its call (`$@` are its arguments). */
  readonly fakes?: Record<string, string>;
  readonly prepare?: (workdir: string, root: string) => void;
}

/** Fakes for the build tools, first on PATH, before the real tools. */
async function toolbox(root: string, fakes: Record<string, string>): Promise<string> {
  const fakeBin = path.join(root, "fake-bin");
  for (const tool of BUILD_TOOLS) {
    writeExecutable(path.join(fakeBin, tool), `#!/bin/sh\necho "${tool} $*" >> "$CALLS"\n${fakes[tool] ?? ""}\n`);
  }
  return `${fakeBin}:${await realTools()}`;
}

function readCallLines(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((call) => call.trimEnd());
}

/**
 * Runs the RUN steps of the Dockerfile's `build` stage with /bin/sh in a folder laid out like the image
 * (/build/src → <tmp>/build/src), with the stage's ARG defaults and ENV, and the `slipway` context mounted where the
 * scripts are in the repository. Package installation (apt-get, apk) is the base image's business and is skipped.
 */
async function runBuildStage(builder: GeneratedBuilder, options: ScriptOptions = {}): Promise<StageRun> {
  const root = folder.subfolder(`${builder}-stage`);
  const { stages } = stagesOf(dockerfileFor(builder));
  const stage = stages.find((candidate) => candidate.name === "build")!;
  const workdir = path.join(root, "build", "src");
  fs.mkdirSync(workdir, { recursive: true });
  writeFiles(workdir, options.files ?? {});
  const toolPath = await toolbox(root, options.fakes ?? {});
  options.prepare?.(workdir, root);

  const env: Record<string, string> = { HOME: path.join(root, "home"), TMPDIR: root, CALLS: path.join(root, "calls") };
  fs.writeFileSync(env.CALLS!, "");
  const scripts: string[] = [];
  for (const instruction of stage.instructions) {
    const content = instruction.getArgumentsContent()!;
    switch (instruction.getKeyword()) {
      case "WORKDIR":
        if (content !== "/build/src") throw new Error(`the build stage works in ${content}`);
        break;
      case "ARG": {
        const [name, value = ""] = content.split("=");
        env[name!] = JSON.parse(value || '""');
        break;
      }
      case "ENV":
        for (const pair of content.split(/\s+/)) {
          const [name, value = ""] = pair.split("=");
          env[name!] = value;
        }
        break;
      case "RUN":
        if (!INLINE_RUN.test(content)) scripts.push(content.replaceAll("/slipway/", `${IMAGE_DIR}/`));
        break;
    }
  }
  Object.assign(env, options.args ?? {});
  env.PATH = toolPath;

  let output = "";
  let ok = true;
  for (const script of scripts) {
    const result = await exec("/bin/sh", ["-c", script], { cwd: workdir, env });
    output += result.stdout + result.stderr;
    if (result.status !== 0) {
      ok = false;
      break;
    }
  }
  return { ok, output, calls: readCallLines(env.CALLS!), workdir, root };
}

const PACKAGE_JSON_WITH_BUILD = JSON.stringify({
  name: "web",
  scripts: { build: "vite build", start: "node server.js" },
});

test("node build stage: pnpm lockfile → corepack pnpm, frozen install, build script, prune", async (t) => {
  const run = await runBuildStage("node", {
    files: { "package.json": PACKAGE_JSON_WITH_BUILD, "pnpm-lock.yaml": "" },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, [
    "corepack enable pnpm",
    "pnpm install --frozen-lockfile",
    "pnpm run build",
    "pnpm prune --prod",
  ]);
});

test("node build stage: no lockfile and no build script → npm install, no build, prune", async (t) => {
  const run = await runBuildStage("node", { files: { "package.json": JSON.stringify({ name: "api" }) } });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["npm install", "npm prune --omit=dev"]);
});

test("node build stage: Yarn Berry flags; BUILD_COMMAND replaces the build script and runs in the app", async (t) => {
  const run = await runBuildStage("node", {
    files: { "package.json": PACKAGE_JSON_WITH_BUILD, "yarn.lock": "", ".yarnrc.yml": "nodeLinker: node-modules\n" },
    args: { BUILD_COMMAND: 'echo "built by $0" > built.txt' },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, [
    "corepack enable yarn",
    "yarn install --immutable",
    "yarn workspaces focus --all --production",
  ]);
  t.is(fs.readFileSync(path.join(run.workdir, "built.txt"), "utf8"), "built by sh\n");
});

test("node build stage: PACKAGE_MANAGER wins over the lockfile; without corepack it is installed with npm", async (t) => {
  const run = await runBuildStage("node", {
    files: { "package.json": PACKAGE_JSON_WITH_BUILD, "package-lock.json": "{}" },
    args: { PACKAGE_MANAGER: "bun" },
    fakes: { corepack: "exit 1" },
    // bun is not on the image until npm installs it.
    prepare: (_, root) => fs.rmSync(path.join(root, "fake-bin", "bun"), { force: true }),
  });
  // `bun install` then fails because the fake npm installs nothing: the calls before it are what matter.
  t.deepEqual(run.calls, ["corepack enable bun", "npm install --global bun"]);
  t.false(run.ok);
});

test("node build stage: an unknown PACKAGE_MANAGER fails with the choices", async (t) => {
  const run = await runBuildStage("node", { files: { "package.json": "{}" }, args: { PACKAGE_MANAGER: "cargo" } });
  t.false(run.ok);
  t.true(run.output.includes("PACKAGE_MANAGER must be one of pnpm, yarn, bun, npm, got 'cargo'"), run.output);
  t.deepEqual(run.calls, []);
});

/** Jars the fake build tools "build": made with the JDK's jar tool, with or without a Main-Class. */
async function makeJar(file: string, mainClass?: string): Promise<void> {
  const content = folder.subfolder("jar");
  fs.writeFileSync(path.join(content, "app.properties"), `jar=${path.basename(file)}\n`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const args = ["--create", "--file", file, ...(mainClass ? ["--main-class", mainClass] : []), "-C", content, "."];
  const result = await exec("jar", args);
  if (result.status !== 0) throw new Error(result.stderr);
}

/**
 * Jars made once per set, when a test first needs it, under <root>/jars/<set>; a run's fake build tool copies a
 * set into the project as its "build".
 */
const JAR_SETS = {
  maven: {
    "target/shop-1.0.jar": "com.example.Shop",
    "target/shop-1.0-sources.jar": "com.example.Shop",
    "target/shop-1.0-tests.jar": "com.example.Shop",
    "target/original-shop-1.0.jar": "com.example.Shop",
    "common/target/common-1.0.jar": undefined,
  },
  mavenSingle: { "target/shop-1.0.jar": "com.example.Shop" },
  mavenSeveral: { "api/target/api.jar": "com.example.Api", "worker/target/worker.jar": "com.example.Worker" },
  mavenNone: { "target/lib.jar": undefined },
  springBoot: {
    "build/libs/shop-0.0.1.jar": "org.springframework.boot.loader.launch.JarLauncher",
    "build/libs/shop-0.0.1-plain.jar": undefined,
  },
  quarkus: {
    "build/quarkus-app/quarkus-run.jar": "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
    "build/quarkus-app/lib/main/dep.jar": undefined,
    "build/libs/shop.jar": undefined,
  },
  multiModule: { "app/build/libs/app-1.0.jar": "com.example.App", "lib/build/libs/lib-1.0.jar": undefined },
} satisfies Record<string, Record<string, string | undefined>>;

const jarsMade = new Map<string, Promise<string>>();
function jarSet(set: keyof typeof JAR_SETS): Promise<string> {
  let made = jarsMade.get(set);
  if (!made) {
    made = (async () => {
      const dir = path.join(folder.root, "jars", set);
      for (const [name, mainClass] of Object.entries(JAR_SETS[set])) await makeJar(path.join(dir, name), mainClass);
      return dir;
    })();
    jarsMade.set(set, made);
  }
  return made;
}

/** The fake build tool's "build": copy a set of jars into the project. */
async function copyJars(set: keyof typeof JAR_SETS): Promise<string> {
  return `cp -R "${await jarSet(set)}/." .`;
}

test("maven build stage: mvn package, then the one jar with a Main-Class becomes app.jar", async (t) => {
  const run = await runBuildStage("maven", {
    files: { "pom.xml": "<project/>" },
    fakes: { mvn: await copyJars("maven") },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["mvn --batch-mode package -DskipTests"]);
  const appJar = path.join(run.root, "build", "out", "app.jar");
  t.deepEqual(fs.readFileSync(appJar), fs.readFileSync(path.join(run.workdir, "target", "shop-1.0.jar")));
});

test("maven build stage: the wrapper is used when the repository has one", async (t) => {
  const copy = await copyJars("mavenSingle");
  const run = await runBuildStage("maven", {
    files: { "pom.xml": "<project/>" },
    // Archives may drop the executable bit; the script restores it.
    prepare: (workdir) =>
      fs.writeFileSync(path.join(workdir, "mvnw"), `#!/bin/sh\necho "mvnw $*" >> "$CALLS"\n${copy}\n`, {
        mode: 0o644,
      }),
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["mvnw --batch-mode package -DskipTests"]);
});

test("maven build stage: several runnable jars, or none, fail with what was found", async (t) => {
  const several = await runBuildStage("maven", { fakes: { mvn: await copyJars("mavenSeveral") } });
  t.false(several.ok);
  t.true(
    several.output.includes("several runnable jars (api/target/api.jar worker/target/worker.jar)"),
    several.output,
  );

  const none = await runBuildStage("maven", { fakes: { mvn: await copyJars("mavenNone") } });
  t.false(none.ok);
  t.true(none.output.includes("no runnable jar"), none.output);
  t.true(none.output.includes("jars found: target/lib.jar"), none.output);
});

test("gradle build stage: Spring Boot with gradlew → ./gradlew bootJar, the boot jar rather than the plain one", async (t) => {
  const copy = await copyJars("springBoot");
  const run = await runBuildStage("gradle", {
    files: { "build.gradle.kts": 'plugins { id("org.springframework.boot") version "3.3.0" }\n' },
    prepare: (workdir) =>
      writeExecutable(path.join(workdir, "gradlew"), `#!/bin/sh\necho "gradlew $*" >> "$CALLS"\n${copy}\n`),
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["gradlew --no-daemon bootJar"]);
  const appJar = path.join(run.root, "build", "out", "app.jar");
  t.deepEqual(fs.readFileSync(appJar), fs.readFileSync(path.join(run.workdir, "build", "libs", "shop-0.0.1.jar")));
});

test("gradle build stage: without wrapper or Spring Boot → gradle assemble; Quarkus's app folder is kept whole", async (t) => {
  const run = await runBuildStage("gradle", {
    files: { "build.gradle": "plugins { id 'io.quarkus' }\n" },
    fakes: { gradle: await copyJars("quarkus") },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["gradle --no-daemon assemble"]);
  const out = path.join(run.root, "build", "out");
  t.is(fs.readlinkSync(path.join(out, "app.jar")), "quarkus-run.jar");
  t.true(fs.existsSync(path.join(out, "lib", "main", "dep.jar")));
});

test("gradle build stage: a multi-module build deploys the module whose jar has a Main-Class", async (t) => {
  const run = await runBuildStage("gradle", {
    files: { "settings.gradle": "include 'app', 'lib'\n" },
    fakes: { gradle: await copyJars("multiModule") },
  });
  t.true(run.ok, run.output);
  const appJar = path.join(run.root, "build", "out", "app.jar");
  t.deepEqual(fs.readFileSync(appJar), fs.readFileSync(path.join(run.workdir, "app", "build", "libs", "app-1.0.jar")));
});

const CARGO_TOML = `[package]
name = "hello-web"
version = "0.1.0"

[dependencies]
name-parser = { version = "1" }

[[bin]]
name = "hello-web"
`;

/** A fake `cargo build` leaving what a real one leaves in target/release. */
function cargoOutput(binaries: readonly string[]): string {
  return [
    "mkdir -p target/release/build target/release/deps",
    "printf 'dep-info' > target/release/app.d",
    "printf 'elf' > target/release/libhelpers.so && chmod +x target/release/libhelpers.so",
    ...binaries.map((binary) => `printf '${binary}' > target/release/${binary} && chmod +x target/release/${binary}`),
  ].join("\n");
}

test("rust build stage: cargo build --release --locked; the package's binary is the app; target/ is dropped", async (t) => {
  const run = await runBuildStage("rust", {
    files: { "Cargo.toml": CARGO_TOML, "Cargo.lock": "", "templates/index.html": "<h1>hi</h1>" },
    fakes: { cargo: cargoOutput(["hello-web", "helper-tool"]) },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["cargo build --release --locked"]);
  t.is(fs.readFileSync(path.join(run.root, "build", "bin", "app"), "utf8"), "hello-web");
  t.false(fs.existsSync(path.join(run.workdir, "target")));
  t.true(fs.existsSync(path.join(run.workdir, "templates", "index.html")), "the app's files stay for the image");
});

test("rust build stage: a workspace without [package] uses its single binary, and refuses to guess among several", async (t) => {
  const workspace = '[workspace]\nmembers = ["server"]\n';
  const single = await runBuildStage("rust", {
    files: { "Cargo.toml": workspace },
    fakes: { cargo: cargoOutput(["server"]) },
  });
  t.true(single.ok, single.output);
  t.deepEqual(single.calls, ["cargo build --release"]);
  t.is(fs.readFileSync(path.join(single.root, "build", "bin", "app"), "utf8"), "server");

  const several = await runBuildStage("rust", {
    files: { "Cargo.toml": workspace },
    fakes: { cargo: cargoOutput(["server", "worker"]) },
  });
  t.false(several.ok);
  t.true(
    several.output.includes("target/release holds 2: target/release/server target/release/worker"),
    several.output,
  );
});

test("go build stage: builds the root main package statically into ../bin/app", async (t) => {
  const run = await runBuildStage("go", {
    files: { "go.mod": "module example.com/shop\n", "main.go": "package main\n" },
    fakes: { go: 'if [ "$1 $2 $3 $4" = "list -f {{.Name}} ." ]; then echo main; fi' },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["go list -f {{.Name}} .", "go build -trimpath -ldflags=-s -w -o ../bin/app ."]);
});

test("go build stage: the single main package under cmd/, or a refusal to guess among several", async (t) => {
  const listMains = (mains: string) =>
    `if [ "$1 $2 $3 $4" = "list -f {{.Name}} ." ]; then echo shop; elif [ "$1" = list ]; then printf '%s\\n' ${mains}; fi`;
  const one = await runBuildStage("go", { fakes: { go: listMains("'' example.com/shop/cmd/server ''") } });
  t.true(one.ok, one.output);
  t.is(one.calls.at(-1), "go build -trimpath -ldflags=-s -w -o ../bin/app example.com/shop/cmd/server");

  const two = await runBuildStage("go", {
    fakes: { go: listMains("example.com/shop/cmd/server example.com/shop/cmd/migrate") },
  });
  t.false(two.ok);
  t.true(two.output.includes("expected one main package, found 2"), two.output);
});

test("go and rust build stages: a build command needs a start command", async (t) => {
  for (const builder of ["go", "rust"] as const) {
    const refused = await runBuildStage(builder, { args: { BUILD_COMMAND: "make server" } });
    t.false(refused.ok, builder);
    t.true(refused.output.includes("a build command is set but no start command"), refused.output);

    const built = await runBuildStage(builder, {
      args: { BUILD_COMMAND: "echo built > server", START_COMMAND: "./server" },
    });
    t.true(built.ok, built.output);
    t.is(fs.readFileSync(path.join(built.workdir, "server"), "utf8"), "built\n");
    t.deepEqual(built.calls, [], `${builder} runs only the app's command`);
  }
});

test("python build stage: the lockfile picks the tool, installed beside the app's virtual environment", async (t) => {
  const cases: readonly [files: Record<string, string>, calls: string[]][] = [
    [{ "requirements.txt": "flask\n" }, ["python -m venv /opt/venv", "pip install -r requirements.txt"]],
    [
      { "pyproject.toml": "", "uv.lock": "" },
      ["pip install uv", "python -m venv /opt/venv", "uv sync --frozen --no-dev"],
    ],
    [
      { "pyproject.toml": "", "poetry.lock": "" },
      ["pip install poetry", "python -m venv /opt/venv", "poetry install --only main --no-root --no-interaction"],
    ],
    [
      { Pipfile: "" },
      [
        "pip install pipenv",
        "python -m venv /opt/venv",
        "pipenv lock",
        "pipenv requirements",
        "pip install -r ../requirements.txt",
      ],
    ],
    [{ "pyproject.toml": "" }, ["python -m venv /opt/venv", "pip install ."]],
  ];
  for (const [files, calls] of cases) {
    const run = await runBuildStage("python", { files });
    t.true(run.ok, run.output);
    t.deepEqual(run.calls, calls, Object.keys(files).join(" "));
    t.false(fs.existsSync(path.join(run.root, "build", "requirements.txt")), "pipenv's export is cleaned up");
  }
});

test("python build stage: PACKAGE_MANAGER and BUILD_COMMAND hints", async (t) => {
  const run = await runBuildStage("python", {
    files: { "requirements.txt": "django\n", "manage.py": "" },
    args: { PACKAGE_MANAGER: "uv", BUILD_COMMAND: 'echo "$VIRTUAL_ENV" > collected.txt' },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["pip install uv", "python -m venv /opt/venv", "uv pip install -r requirements.txt"]);
  t.is(
    fs.readFileSync(path.join(run.workdir, "collected.txt"), "utf8"),
    "/opt/venv\n",
    "the build command sees the venv",
  );

  const unknown = await runBuildStage("python", { args: { PACKAGE_MANAGER: "conda" } });
  t.false(unknown.ok);
  t.true(unknown.output.includes("PACKAGE_MANAGER must be one of pip, poetry, uv, pipenv, got 'conda'"));
});

test("ruby build stage: deployment mode with a lockfile; the build command gets a dummy secret key", async (t) => {
  const run = await runBuildStage("ruby", {
    files: { Gemfile: "gem 'rails'\n", "Gemfile.lock": "" },
    args: { BUILD_COMMAND: 'echo "$SECRET_KEY_BASE_DUMMY $RAILS_ENV" > assets.txt' },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["bundle config set --local deployment true", "bundle install --jobs 4 --retry 3"]);
  t.is(fs.readFileSync(path.join(run.workdir, "assets.txt"), "utf8"), "1 production\n");

  const unlocked = await runBuildStage("ruby", { files: { Gemfile: "" } });
  t.deepEqual(unlocked.calls, ["bundle install --jobs 4 --retry 3"]);
});

test("php build stage: composer install without dev dependencies", async (t) => {
  const run = await runBuildStage("php", { files: { "composer.json": "{}" } });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["composer install --no-dev --prefer-dist --optimize-autoloader --no-progress"]);
  const plain = await runBuildStage("php", { files: { "index.php": "<?php echo 1;" } });
  t.deepEqual(plain.calls, []);
});

test("static build stage: the folder as is, or the build command's output folder", async (t) => {
  const asIs = await runBuildStage("static", { files: { "index.html": "<h1>home</h1>", "css/site.css": "body{}" } });
  t.true(asIs.ok, asIs.output);
  t.deepEqual(asIs.calls, []);
  t.is(fs.readFileSync(path.join(asIs.root, "build", "site", "css", "site.css"), "utf8"), "body{}");

  const built = await runBuildStage("static", {
    files: { "package.json": PACKAGE_JSON_WITH_BUILD, "package-lock.json": "{}", "public/favicon.ico": "" },
    args: { BUILD_COMMAND: "mkdir -p dist && echo '<h1>built</h1>' > dist/index.html" },
  });
  t.true(built.ok, built.output);
  t.deepEqual(built.calls, ["npm ci"]);
  t.is(fs.readFileSync(path.join(built.root, "build", "site", "index.html"), "utf8"), "<h1>built</h1>\n");
  t.false(fs.existsSync(path.join(built.root, "build", "site", "package.json")));

  const empty = await runBuildStage("static", { args: { BUILD_COMMAND: "true" } });
  t.false(empty.ok);
  t.true(
    empty.output.includes("the build command left no index.html in dist/, build/, out/, public/, _site/"),
    empty.output,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// The images' start (start.sh as /usr/local/bin/slipway-start), executed
// ---------------------------------------------------------------------------------------------------------------

/** Runs the image's start like the container would, in a folder standing in for the app's. */
async function start(
  builder: GeneratedBuilder,
  options: { files?: Record<string, string>; env?: Record<string, string> } = {},
): Promise<StageRun> {
  const root = folder.subfolder(`${builder}-start`);
  const workdir = path.join(root, "app");
  fs.mkdirSync(workdir);
  writeFiles(workdir, options.files ?? {});
  const env = { CALLS: path.join(root, "calls"), HOME: root, PORT: "9999", START_COMMAND: "", ...options.env };
  fs.writeFileSync(env.CALLS, "");
  const fakes = { "apache2-foreground": 'echo "document root $APACHE_DOCUMENT_ROOT, port $PORT" >> "$CALLS"' };
  const result = await exec("/bin/sh", [path.join(IMAGE_DIR, "start.sh"), builder], {
    cwd: workdir,
    env: { ...env, PATH: await toolbox(root, fakes) },
  });
  return {
    ok: result.status === 0,
    output: result.stdout + result.stderr,
    calls: readCallLines(env.CALLS),
    workdir,
    root,
  };
}

test("START_COMMAND runs through a shell at start, with the runtime PORT, in every image that has one", async (t) => {
  for (const builder of GENERATED.filter((candidate) => candidate !== "static")) {
    const run = await start(builder, { env: { START_COMMAND: 'echo "listening on $PORT" > started.txt' } });
    t.true(run.ok, `${builder}: ${run.output}`);
    t.is(fs.readFileSync(path.join(run.workdir, "started.txt"), "utf8"), "listening on 9999\n", builder);
    t.deepEqual(run.calls, [], `${builder} ran its default too`);
  }
});

test("default starts: java on PORT, npm start, Rails, Puma, Django under gunicorn, Python scripts, Apache", async (t) => {
  t.deepEqual((await start("maven")).calls, ["java -XX:MaxRAMPercentage=75 -Dserver.port=9999 -jar /app/app.jar"]);
  t.deepEqual((await start("gradle", { env: { JAVA_OPTS: "-Xss512k -Dfoo=bar" } })).calls, [
    "java -XX:MaxRAMPercentage=75 -Xss512k -Dfoo=bar -Dserver.port=9999 -jar /app/app.jar",
  ]);
  t.deepEqual((await start("node")).calls, ["npm start"]);
  t.deepEqual((await start("ruby", { files: { "bin/rails": "" } })).calls, [
    "bundle exec rails server -b 0.0.0.0 -p 9999",
  ]);
  t.deepEqual((await start("ruby", { files: { "Gemfile.lock": "GEM\n  specs:\n    puma (6.4.2)\n" } })).calls, [
    "bundle exec puma -b tcp://0.0.0.0:9999",
  ]);
  t.deepEqual((await start("ruby", { files: { "config.ru": "" } })).calls, [
    "bundle exec rackup --host 0.0.0.0 --port 9999",
  ]);
  t.deepEqual((await start("python", { files: { "manage.py": "", "shop/wsgi.py": "", "app.py": "" } })).calls, [
    "gunicorn shop.wsgi",
  ]);
  t.deepEqual((await start("python", { files: { "app.py": "", "server.py": "" } })).calls, ["python app.py"]);
  t.deepEqual((await start("php", { files: { "public/index.php": "" } })).calls, [
    "apache2-foreground",
    "document root /var/www/html/public, port 9999",
  ]);
  t.deepEqual((await start("php", { files: { "index.php": "" } })).calls, [
    "apache2-foreground",
    "document root /var/www/html, port 9999",
  ]);

  const nothing = await start("python");
  t.false(nothing.ok);
  t.true(nothing.output.includes("no start command, and no main.py, app.py or server.py to run"));
});

test("static: nginx serves the site on PORT through the image's template, as the nginx user", async (t) => {
  const { stages } = stagesOf(dockerfileFor("static"));
  const final = stages.at(-1)!;
  t.is(final.from.getArguments()[0]!.getValue(), `${LIBRARY}nginx:stable-alpine`);
  const setupRun = final.instructions.find((instruction) => instruction.getKeyword() === "RUN")!;
  t.is(setupRun.getArgumentsContent(), "sh /slipway/nginx-configure.sh");

  // Run the configuring script against a copy of the paths it touches.
  const root = folder.subfolder("nginx");
  const setup = fs.readFileSync(path.join(IMAGE_DIR, "nginx-configure.sh"), "utf8");
  const relocated = setup
    .replaceAll("/etc/nginx", `${root}/etc/nginx`)
    .replaceAll("/var/cache/nginx", `${root}/var/cache/nginx`);
  t.false(/(^|[\s'"])\/(etc|var)\//m.test(relocated), "every path was relocated");
  writeFiles(root, {
    "etc/nginx/nginx.conf": "user  nginx;\nworker_processes  auto;\npid        /var/run/nginx.pid;\n",
    "etc/nginx/conf.d/default.conf": "server { listen 80; }\n",
    "var/cache/nginx/.keep": "",
  });
  const result = await exec("/bin/sh", ["-c", relocated.replace("chown -R nginx:nginx", "echo would chown")]);
  t.is(result.status, 0, result.stderr);
  t.is(
    fs.readFileSync(path.join(root, "etc/nginx/nginx.conf"), "utf8"),
    "worker_processes  auto;\npid /tmp/nginx.pid;\n",
  );
  t.false(fs.existsSync(path.join(root, "etc/nginx/conf.d/default.conf")));
  const template = fs.readFileSync(path.join(root, "etc/nginx/templates/default.conf.template"), "utf8");
  t.true(template.includes("listen ${PORT};"));
  t.true(template.includes("try_files $uri $uri/ $uri.html /index.html;"));
});
