import test, { type ExecutionContext } from "ava";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { BUILDERS, type Builder } from "../runtime/builders";
import {
  BUILD_ENV_HINTS,
  buildspecFor,
  dockerfileFor,
  isSafeHint,
  type GeneratedBuilder,
} from "../components/buildspecs";

// hadolint is neither a Debian (bookworm) package nor an npm package without a binary download, so the Dockerfiles
// are linted with dockerfile-utils (the validator behind VS Code's Dockerfile support) and every RUN script is
// checked with dash, the /bin/sh of the Debian base images.

const GENERATED: readonly GeneratedBuilder[] = BUILDERS.filter(
  (builder): builder is GeneratedBuilder => builder !== "docker",
);
const LIBRARY = "public.ecr.aws/docker/library/";
const IMAGE_REPOSITORY_URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway-apps";
const REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const DEPLOYMENT_ID = "5b0b7e2e-3d4c-4b8a-9f51-0d6c1c2e9a11";
const COMMIT_SHA = "0123456789abcdef0123456789abcdef01234567";
const TOP_FOLDER = "octo-shop-0123456";
const FAKE_DIGEST = `sha256:${"ab".repeat(32)}`;

function tempDir(t: ExecutionContext): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "slipway-buildspec-")));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
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
// A CodeBuild-like run of a buildspec: bash, $CODEBUILD_SRC_DIR, and `docker`/`aws` replaced by recorders.
// ---------------------------------------------------------------------------------------------------------------

interface RecordedCall {
  readonly tool: string;
  readonly cwd: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  /** Content of the file passed to `docker build --file`, copied when it was called. */
  readonly dockerfile?: string;
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

const FAKE_DOCKER = `${RECORDER}
case "\${1:-}" in
  login) cat > "$call.stdin" ;;
  build)
    previous=""
    for arg in "$@"; do
      if [ "$previous" = --file ]; then cp "$arg" "$call.dockerfile"; fi
      previous="$arg"
    done
    if [ -n "\${FAKE_DOCKER_BUILD_FAILS:-}" ]; then echo "fake docker: build failed" >&2; exit 1; fi ;;
  image) printf '%s@${FAKE_DIGEST}\\n' "\${IMAGE_REPOSITORY_URI}" ;;
esac
`;

const FAKE_AWS = `${RECORDER}
if [ "\${1:-} \${2:-}" = "ecr get-login-password" ]; then echo fake-ecr-password; fi
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
      return { tool, cwd, args, stdin: extra(".stdin"), dockerfile: extra(".dockerfile") };
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
}

function runBuildspec(t: ExecutionContext, builder: Builder, options: RunOptions): BuildspecRun {
  const root = tempDir(t);
  const srcDir = path.join(root, "codebuild", "src");
  const bin = path.join(root, "bin");
  const recordDir = path.join(root, "record");
  fs.mkdirSync(srcDir, { recursive: true });
  fs.mkdirSync(recordDir);
  writeFiles(srcDir, options.source);
  options.prepare?.(srcDir);
  writeExecutable(path.join(bin, "docker"), FAKE_DOCKER);
  writeExecutable(path.join(bin, "aws"), FAKE_AWS);

  const env: Record<string, string> = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: root,
    TMPDIR: path.join(root, "tmp"),
    RECORD_DIR: recordDir,
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
  const bash = (script: string, extra: Record<string, string> = {}) => {
    const result = spawnSync("bash", ["-c", script], { cwd: srcDir, env: { ...env, ...extra }, encoding: "utf8" });
    output += result.stdout + result.stderr;
    return result.status === 0;
  };

  let failedPhase: string | undefined;
  if (options.shells === "shared") {
    const all = [...phases.pre_build.commands, ...phases.build.commands, ...phases.post_build.commands];
    if (!bash(all.join("\n"), { CODEBUILD_BUILD_SUCCEEDING: "1" })) failedPhase = "shared";
  } else {
    // CodeBuild skips build after a failed pre_build; post_build runs after build either way.
    if (!phases.pre_build.commands.every((command) => bash(command))) failedPhase = "pre_build";
    else {
      const built = phases.build.commands.every((command) => bash(command, { CODEBUILD_BUILD_SUCCEEDING: "1" }));
      if (!built) failedPhase = "build";
      const pushed = phases.post_build.commands.every((command) =>
        bash(command, { CODEBUILD_BUILD_SUCCEEDING: built ? "1" : "0" }),
      );
      if (built && !pushed) failedPhase = "post_build";
    }
  }
  const calls = readCalls(recordDir);
  const appDir = path.join(srcDir, TOP_FOLDER, env.ROOT_DIRECTORY ?? "");
  return { failedPhase, output, calls, root, appDir, pushed: calls.some((call) => call.args[0] === "push") };
}

function dockerBuilds(run: BuildspecRun): RecordedCall[] {
  return run.calls.filter((call) => call.tool === "docker" && call.args[0] === "build");
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

for (const builder of BUILDERS) {
  test(`${builder}: the buildspec is JSON, version 0.2, bash, three phases, both tags`, (t) => {
    const text = buildspecFor(builder);
    const buildspec = parseBuildspec(builder);
    t.is(buildspec.version, 0.2);
    t.is(buildspec.env.shell, "bash");
    for (const phase of ["pre_build", "build", "post_build"] as const) {
      t.true(buildspec.phases[phase].commands.length > 0, phase);
    }
    t.true(text.startsWith('{\n  "version": 0.2,'), "pretty-printed with two spaces");
    const build = buildspec.phases.build.commands.join("\n");
    t.true(build.includes('--tag "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID"'));
    t.true(build.includes('--tag "$IMAGE_REPOSITORY_URI:$COMMIT_SHA"'));
    const post = buildspec.phases.post_build.commands.join("\n");
    t.true(post.includes('docker push "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID"'));
    t.true(post.includes('docker push "$IMAGE_REPOSITORY_URI:$COMMIT_SHA"'));
    t.true(post.includes("CODEBUILD_BUILD_SUCCEEDING"));
    for (const command of Object.values(buildspec.phases).flatMap((phase) => phase.commands)) {
      t.true(command.startsWith("set -euo pipefail\n"), "every command is strict on its own");
      const syntax = spawnSync("bash", ["-n", "-c", command], { encoding: "utf8" });
      t.is(syntax.status, 0, syntax.stderr);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Executing the buildspec
// ---------------------------------------------------------------------------------------------------------------

test("node: logs in to ECR, enters ROOT_DIRECTORY, builds the generated Dockerfile with hints, pushes both tags", (t) => {
  const run = runBuildspec(t, "node", {
    source: NODE_APP,
    env: {
      ROOT_DIRECTORY: "apps/web",
      RUNTIME_VERSION: "20",
      PACKAGE_MANAGER: "pnpm",
      BUILD_COMMAND: "pnpm run build:prod",
    },
  });
  t.is(run.failedPhase, undefined, run.output);

  // The two ends of the login pipeline start together, in either order.
  const [first, second, build, pushSha, pushDeployment, inspect, ...rest] = run.calls;
  t.deepEqual(rest, []);
  const login = [first, second].find((call) => call?.tool === "aws");
  const dockerLogin = [first, second].find((call) => call?.tool === "docker");
  t.deepEqual([login?.tool, ...(login?.args ?? [])], ["aws", "ecr", "get-login-password", "--region", "eu-west-1"]);
  t.deepEqual(dockerLogin?.args, ["login", "--username", "AWS", "--password-stdin", REGISTRY]);
  t.is(dockerLogin?.stdin, "fake-ecr-password\n");

  t.truthy(build);
  t.is(build!.cwd, run.appDir, "builds from ROOT_DIRECTORY inside the single top-level folder");
  t.is(build!.args.at(-1), ".");
  t.deepEqual(flagValues(build!.args, "--tag"), [
    `${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`,
    `${IMAGE_REPOSITORY_URI}:${COMMIT_SHA}`,
  ]);
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
  t.false(fs.existsSync(path.join(run.appDir, "Dockerfile")));

  t.deepEqual(pushSha?.args, ["push", `${IMAGE_REPOSITORY_URI}:${COMMIT_SHA}`]);
  t.deepEqual(pushDeployment?.args, ["push", `${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`]);
  t.deepEqual(inspect?.args.slice(0, 2), ["image", "inspect"]);
  t.true(run.output.includes(`pushed ${IMAGE_REPOSITORY_URI}@${FAKE_DIGEST}`), run.output);
});

test("the same commands work when CodeBuild runs them all in one shell", (t) => {
  const run = runBuildspec(t, "node", { source: NODE_APP, env: { ROOT_DIRECTORY: "apps/web" }, shells: "shared" });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.is(build?.cwd, run.appDir);
  t.deepEqual(
    run.calls.filter((call) => call.args[0] === "push").map((call) => call.args[1]),
    [`${IMAGE_REPOSITORY_URI}:${COMMIT_SHA}`, `${IMAGE_REPOSITORY_URI}:${DEPLOYMENT_ID}`],
  );
});

test("hostile hints reach docker as data and run nothing", (t) => {
  const root = tempDir(t);
  const marker = (n: number) => path.join(root, `pwned-${n}`);
  const hostile = {
    START_COMMAND: `$(touch ${marker(1)}) "double" 'single' ; touch ${marker(2)} \`touch ${marker(3)}\` | tee ${marker(4)}`,
    BUILD_COMMAND: `'; touch ${marker(5)}; echo '$(touch ${marker(6)})" && touch ${marker(7)} #`,
    PACKAGE_MANAGER: `npm$(touch ${marker(8)})`,
    RUNTIME_VERSION: `20$(touch ${marker(9)})`,
  };
  for (const value of Object.values(hostile)) t.true(isSafeHint(value), "printable one-liners pass the filter");

  const run = runBuildspec(t, "node", { source: NODE_APP, env: { ROOT_DIRECTORY: "apps/web", ...hostile } });
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

test("an app's own Dockerfile wins over the builder's, without the hint build args", (t) => {
  const run = runBuildspec(t, "node", {
    source: { ...NODE_APP, [`${TOP_FOLDER}/apps/web/Dockerfile`]: "FROM scratch\n" },
    env: { ROOT_DIRECTORY: "apps/web", START_COMMAND: "node server.js" },
  });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.is(build?.cwd, run.appDir);
  t.deepEqual(flagValues(build!.args, "--file"), []);
  t.deepEqual(flagValues(build!.args, "--build-arg"), []);
  t.is(flagValues(build!.args, "--tag").length, 2);
  t.true(run.output.includes("the app's own Dockerfile"));
  t.true(run.pushed);
});

test("docker builder: builds the app's Dockerfile at the repository root", (t) => {
  const run = runBuildspec(t, "docker", {
    source: { [`${TOP_FOLDER}/Dockerfile`]: "FROM scratch\n", [`${TOP_FOLDER}/main.go`]: "package main\n" },
  });
  t.is(run.failedPhase, undefined, run.output);
  const [build] = dockerBuilds(run);
  t.is(build?.cwd, path.join(run.root, "codebuild", "src", TOP_FOLDER));
  t.deepEqual(flagValues(build!.args, "--file"), []);
  t.true(run.pushed);
});

test("docker builder: no Dockerfile fails the build and pushes nothing", (t) => {
  const run = runBuildspec(t, "docker", {
    source: { [`${TOP_FOLDER}/services/api/main.go`]: "package main\n" },
    env: { ROOT_DIRECTORY: "services/api" },
  });
  t.is(run.failedPhase, "build");
  t.true(
    run.output.includes("the docker builder builds the app's own Dockerfile, and services/api has none"),
    run.output,
  );
  t.deepEqual(dockerBuilds(run), []);
  t.false(run.pushed);
  t.true(run.output.includes("no image was pushed"));
});

test("every generated builder writes exactly its dockerfileFor text", (t) => {
  for (const builder of GENERATED) {
    const run = runBuildspec(t, builder, { source: { [`${TOP_FOLDER}/app.txt`]: "app\n" } });
    t.is(run.failedPhase, undefined, `${builder}: ${run.output}`);
    const [build] = dockerBuilds(run);
    t.is(build?.dockerfile, dockerfileFor(builder), builder);
    t.true(run.output.includes(`generated ${builder} Dockerfile`), builder);
    t.true(run.pushed, builder);
  }
});

const SOURCE_LAYOUT_FAILURES: readonly [
  title: string,
  source: Record<string, string>,
  prepare?: (srcDir: string) => void,
][] = [
  ["no top-level folder", {}],
  ["two top-level folders", { [`${TOP_FOLDER}/a.txt`]: "a", "octo-shop-fedcba9/b.txt": "b" }],
  ["a file beside the folder", { [`${TOP_FOLDER}/a.txt`]: "a", "stray.txt": "b" }],
  ["one file and no folder", { "source.txt": "a" }],
];

for (const [title, source] of SOURCE_LAYOUT_FAILURES) {
  test(`source archive with ${title}: pre_build fails with the reason`, (t) => {
    const run = runBuildspec(t, "node", { source });
    t.is(run.failedPhase, "pre_build");
    t.true(run.output.includes("the source archive must hold exactly one top-level folder"), run.output);
    t.deepEqual(dockerBuilds(run), []);
    t.false(run.pushed);
  });
}

const ROOT_DIRECTORY_FAILURES: readonly [rootDirectory: string, message: string][] = [
  ["../x", "may not leave the repository with '..'"],
  ["apps/../../x", "may not leave the repository with '..'"],
  ["..", "may not leave the repository with '..'"],
  ["/etc", "must be relative to the repository root"],
  ["apps/missing", "is not a folder of octo/shop at " + COMMIT_SHA],
  ["escape", "leads outside the repository"],
];

for (const [rootDirectory, message] of ROOT_DIRECTORY_FAILURES) {
  test(`ROOT_DIRECTORY=${rootDirectory} fails before anything is built`, (t) => {
    const run = runBuildspec(t, "node", {
      source: NODE_APP,
      env: { ROOT_DIRECTORY: rootDirectory },
      // A symbolic link in the repository pointing out of it.
      prepare: (srcDir) => fs.symlinkSync(path.dirname(srcDir), path.join(srcDir, TOP_FOLDER, "escape")),
    });
    t.is(run.failedPhase, "pre_build");
    t.true(run.output.includes(message), run.output);
    t.deepEqual(dockerBuilds(run), []);
  });
}

test("ROOT_DIRECTORY with ./ and a trailing slash still lands in the app", (t) => {
  const run = runBuildspec(t, "node", { source: NODE_APP, env: { ROOT_DIRECTORY: "./apps/web/" } });
  t.is(run.failedPhase, undefined, run.output);
  t.is(dockerBuilds(run)[0]?.cwd, path.join(run.root, "codebuild", "src", TOP_FOLDER, "apps", "web"));
});

test("a failed docker build runs post_build without pushing", (t) => {
  const run = runBuildspec(t, "node", {
    source: NODE_APP,
    env: { ROOT_DIRECTORY: "apps/web", FAKE_DOCKER_BUILD_FAILS: "1" },
  });
  t.is(run.failedPhase, "build");
  t.is(dockerBuilds(run).length, 1);
  t.false(run.pushed);
  t.true(run.output.includes("the build failed, so no image was pushed"));
});

test("missing or malformed build variables fail in pre_build, naming the variable", (t) => {
  const missing = runBuildspec(t, "node", { source: NODE_APP, env: { COMMIT_SHA: undefined } });
  t.is(missing.failedPhase, "pre_build");
  t.true(missing.output.includes("COMMIT_SHA is not set"), missing.output);

  const short = runBuildspec(t, "node", { source: NODE_APP, env: { COMMIT_SHA: "0123abc" } });
  t.is(short.failedPhase, "pre_build");
  t.true(short.output.includes("COMMIT_SHA must be a full 40-character commit SHA"), short.output);

  const badTag = runBuildspec(t, "node", { source: NODE_APP, env: { DEPLOYMENT_ID: "../x" } });
  t.is(badTag.failedPhase, "pre_build");
  t.true(badTag.output.includes("cannot be an image tag"), badTag.output);
  t.deepEqual(dockerBuilds(badTag), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Hints
// ---------------------------------------------------------------------------------------------------------------

test("BUILD_ENV_HINTS names the four optional hints", (t) => {
  t.deepEqual([...BUILD_ENV_HINTS].sort(), ["BUILD_COMMAND", "PACKAGE_MANAGER", "RUNTIME_VERSION", "START_COMMAND"]);
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

for (const builder of GENERATED) {
  test(`${builder}: Dockerfile is multi-stage from public.ecr.aws, non-root, exposes PORT, has a CMD`, (t) => {
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
        const from = /--from=(\S+)/.exec(copy.getArgumentsContent()!)?.[1];
        if (from) t.true(from.startsWith(LIBRARY) || stageNames.has(from), `COPY --from=${from}`);
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
    t.notThrows(() => JSON.parse(cmds[0]!.getArgumentsContent()!), "CMD in JSON form");

    const declared = new Set([...initialArgs.keys(), ...stages.flatMap(argNames)]);
    for (const hint of BUILD_ENV_HINTS) {
      t.is(declared.has(hint), HONOURED_HINTS[builder].includes(hint), `ARG ${hint}`);
    }
  });

  test(`${builder}: Dockerfile passes dockerfile-utils validation and dash parses every RUN`, (t) => {
    const dockerfile = dockerfileFor(builder);
    t.deepEqual(
      validate(dockerfile).map((diagnostic) => `${diagnostic.range.start.line + 1}: ${diagnostic.message}`),
      [],
    );
    const runs = DockerfileParser.parse(dockerfile)
      .getInstructions()
      .filter((instruction) => instruction.getKeyword() === "RUN");
    t.true(runs.length > 0);
    for (const runInstruction of runs) {
      const script = runInstruction.getArgumentsContent()!;
      const syntax = spawnSync("/bin/sh", ["-n", "-c", script], { encoding: "utf8" });
      t.is(syntax.status, 0, `${syntax.stderr}\n${script}`);
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

function toolbox(t: ExecutionContext, root: string, fakes: Record<string, string>): string {
  const fakeBin = path.join(root, "fake-bin");
  const realBin = path.join(root, "real-bin");
  fs.mkdirSync(realBin, { recursive: true });
  for (const tool of REAL_TOOLS) {
    const which = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (!which) t.fail(`${tool} is needed to run the build scripts`);
    fs.symlinkSync(fs.realpathSync(which), path.join(realBin, tool));
  }
  for (const tool of BUILD_TOOLS) {
    writeExecutable(path.join(fakeBin, tool), `#!/bin/sh\necho "${tool} $*" >> "$CALLS"\n${fakes[tool] ?? ""}\n`);
  }
  return `${fakeBin}:${realBin}`;
}

/**
 * Runs the RUN scripts of the Dockerfile's `build` stage with /bin/sh in a folder laid out like the image
 * (/build/src → <tmp>/build/src), with the stage's ARG defaults and ENV. Package installation (apt-get, apk) is
 * the base image's business and is skipped.
 */
function runBuildStage(t: ExecutionContext, builder: GeneratedBuilder, options: ScriptOptions = {}): StageRun {
  const root = tempDir(t);
  const { stages } = stagesOf(dockerfileFor(builder));
  const stage = stages.find((candidate) => candidate.name === "build")!;
  const workdir = path.join(root, "build", "src");
  fs.mkdirSync(workdir, { recursive: true });
  writeFiles(workdir, options.files ?? {});
  const toolPath = toolbox(t, root, options.fakes ?? {});
  options.prepare?.(workdir, root);

  const env: Record<string, string> = { HOME: path.join(root, "home"), TMPDIR: root, CALLS: path.join(root, "calls") };
  fs.writeFileSync(env.CALLS!, "");
  const scripts: string[] = [];
  for (const instruction of stage.instructions) {
    const content = instruction.getArgumentsContent()!;
    switch (instruction.getKeyword()) {
      case "WORKDIR":
        t.is(content, "/build/src");
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
        if (!/\b(apt-get|apk|docker-php-ext-install)\b/.test(content)) scripts.push(content);
        break;
    }
  }
  Object.assign(env, options.args ?? {});
  env.PATH = toolPath;

  let output = "";
  let ok = true;
  for (const script of scripts) {
    const result = spawnSync("/bin/sh", ["-c", script], { cwd: workdir, env, encoding: "utf8" });
    output += result.stdout + result.stderr;
    if (result.status !== 0) {
      ok = false;
      break;
    }
  }
  const calls = fs
    .readFileSync(env.CALLS!, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((call) => call.trimEnd());
  return { ok, output, calls, workdir, root };
}

const PACKAGE_JSON_WITH_BUILD = JSON.stringify({
  name: "web",
  scripts: { build: "vite build", start: "node server.js" },
});

test("node build stage: pnpm lockfile → corepack pnpm, frozen install, build script, prune", (t) => {
  const run = runBuildStage(t, "node", { files: { "package.json": PACKAGE_JSON_WITH_BUILD, "pnpm-lock.yaml": "" } });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, [
    "corepack enable pnpm",
    "pnpm install --frozen-lockfile",
    "pnpm run build",
    "pnpm prune --prod",
  ]);
});

test("node build stage: no lockfile and no build script → npm install, no build, prune", (t) => {
  const run = runBuildStage(t, "node", { files: { "package.json": JSON.stringify({ name: "api" }) } });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["npm install", "npm prune --omit=dev"]);
});

test("node build stage: Yarn Berry flags; BUILD_COMMAND replaces the build script and runs in the app", (t) => {
  const run = runBuildStage(t, "node", {
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

test("node build stage: PACKAGE_MANAGER wins over the lockfile; without corepack it is installed with npm", (t) => {
  const run = runBuildStage(t, "node", {
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

test("node build stage: an unknown PACKAGE_MANAGER fails with the choices", (t) => {
  const run = runBuildStage(t, "node", { files: { "package.json": "{}" }, args: { PACKAGE_MANAGER: "cargo" } });
  t.false(run.ok);
  t.true(run.output.includes("PACKAGE_MANAGER must be one of pnpm, yarn, bun, npm, got 'cargo'"), run.output);
  t.deepEqual(run.calls, []);
});

/** Jars the fake build tools "build": made with the JDK's jar tool, with or without a Main-Class. */
function makeJar(file: string, mainClass?: string): void {
  const content = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-jar-"));
  try {
    fs.writeFileSync(path.join(content, "app.properties"), `jar=${path.basename(file)}\n`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const args = ["--create", "--file", file, ...(mainClass ? ["--main-class", mainClass] : []), "-C", content, "."];
    const result = spawnSync("jar", args, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(result.stderr);
  } finally {
    fs.rmSync(content, { recursive: true, force: true });
  }
}

/** Lays jars out under <tmp>/jars, which the fake build tool copies into the project as its "build". */
function jarFixtures(jars: Record<string, string | undefined>): (workdir: string, root: string) => void {
  return (_, root) => {
    for (const [name, mainClass] of Object.entries(jars)) makeJar(path.join(root, "jars", name), mainClass);
  };
}

const COPY_JARS = 'cp -R "$TMPDIR/jars/." .';

test("maven build stage: mvn package, then the one jar with a Main-Class becomes app.jar", (t) => {
  const run = runBuildStage(t, "maven", {
    files: { "pom.xml": "<project/>" },
    prepare: jarFixtures({
      "target/shop-1.0.jar": "com.example.Shop",
      "target/shop-1.0-sources.jar": "com.example.Shop",
      "target/shop-1.0-tests.jar": "com.example.Shop",
      "target/original-shop-1.0.jar": "com.example.Shop",
      "common/target/common-1.0.jar": undefined,
    }),
    fakes: { mvn: COPY_JARS },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["mvn --batch-mode package -DskipTests"]);
  const appJar = path.join(run.root, "build", "out", "app.jar");
  t.deepEqual(fs.readFileSync(appJar), fs.readFileSync(path.join(run.workdir, "target", "shop-1.0.jar")));
});

test("maven build stage: the wrapper is used when the repository has one", (t) => {
  const run = runBuildStage(t, "maven", {
    files: { "pom.xml": "<project/>" },
    prepare: (workdir, root) => {
      jarFixtures({ "target/shop-1.0.jar": "com.example.Shop" })(workdir, root);
      // Archives may drop the executable bit; the script restores it.
      fs.writeFileSync(path.join(workdir, "mvnw"), `#!/bin/sh\necho "mvnw $*" >> "$CALLS"\n${COPY_JARS}\n`, {
        mode: 0o644,
      });
    },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["mvnw --batch-mode package -DskipTests"]);
});

test("maven build stage: several runnable jars, or none, fail with what was found", (t) => {
  const several = runBuildStage(t, "maven", {
    prepare: jarFixtures({ "api/target/api.jar": "com.example.Api", "worker/target/worker.jar": "com.example.Worker" }),
    fakes: { mvn: COPY_JARS },
  });
  t.false(several.ok);
  t.true(
    several.output.includes("several runnable jars (api/target/api.jar worker/target/worker.jar)"),
    several.output,
  );

  const none = runBuildStage(t, "maven", {
    prepare: jarFixtures({ "target/lib.jar": undefined }),
    fakes: { mvn: COPY_JARS },
  });
  t.false(none.ok);
  t.true(none.output.includes("no runnable jar"), none.output);
});

test("gradle build stage: Spring Boot with gradlew → ./gradlew bootJar, the boot jar rather than the plain one", (t) => {
  const run = runBuildStage(t, "gradle", {
    files: { "build.gradle.kts": 'plugins { id("org.springframework.boot") version "3.3.0" }\n' },
    prepare: (workdir, root) => {
      jarFixtures({
        "build/libs/shop-0.0.1.jar": "org.springframework.boot.loader.launch.JarLauncher",
        "build/libs/shop-0.0.1-plain.jar": undefined,
      })(workdir, root);
      writeExecutable(path.join(workdir, "gradlew"), `#!/bin/sh\necho "gradlew $*" >> "$CALLS"\n${COPY_JARS}\n`);
    },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["gradlew --no-daemon bootJar"]);
  const appJar = path.join(run.root, "build", "out", "app.jar");
  t.deepEqual(fs.readFileSync(appJar), fs.readFileSync(path.join(run.workdir, "build", "libs", "shop-0.0.1.jar")));
});

test("gradle build stage: without wrapper or Spring Boot → gradle assemble; Quarkus's app folder is kept whole", (t) => {
  const run = runBuildStage(t, "gradle", {
    files: { "build.gradle": "plugins { id 'io.quarkus' }\n" },
    prepare: jarFixtures({
      "build/quarkus-app/quarkus-run.jar": "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
      "build/quarkus-app/lib/main/dep.jar": undefined,
      "build/libs/shop.jar": undefined,
    }),
    fakes: { gradle: COPY_JARS },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["gradle --no-daemon assemble"]);
  const out = path.join(run.root, "build", "out");
  t.is(fs.readlinkSync(path.join(out, "app.jar")), "quarkus-run.jar");
  t.true(fs.existsSync(path.join(out, "lib", "main", "dep.jar")));
});

test("gradle build stage: a multi-module build deploys the module whose jar has a Main-Class", (t) => {
  const run = runBuildStage(t, "gradle", {
    files: { "settings.gradle": "include 'app', 'lib'\n" },
    prepare: jarFixtures({ "app/build/libs/app-1.0.jar": "com.example.App", "lib/build/libs/lib-1.0.jar": undefined }),
    fakes: { gradle: COPY_JARS },
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

test("rust build stage: cargo build --release --locked; the package's binary is the app; target/ is dropped", (t) => {
  const run = runBuildStage(t, "rust", {
    files: { "Cargo.toml": CARGO_TOML, "Cargo.lock": "", "templates/index.html": "<h1>hi</h1>" },
    fakes: { cargo: cargoOutput(["hello-web", "helper-tool"]) },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["cargo build --release --locked"]);
  t.is(fs.readFileSync(path.join(run.root, "build", "bin", "app"), "utf8"), "hello-web");
  t.false(fs.existsSync(path.join(run.workdir, "target")));
  t.true(fs.existsSync(path.join(run.workdir, "templates", "index.html")), "the app's files stay for the image");
});

test("rust build stage: a workspace without [package] uses its single binary, and refuses to guess among several", (t) => {
  const workspace = '[workspace]\nmembers = ["server"]\n';
  const single = runBuildStage(t, "rust", {
    files: { "Cargo.toml": workspace },
    fakes: { cargo: cargoOutput(["server"]) },
  });
  t.true(single.ok, single.output);
  t.deepEqual(single.calls, ["cargo build --release"]);
  t.is(fs.readFileSync(path.join(single.root, "build", "bin", "app"), "utf8"), "server");

  const several = runBuildStage(t, "rust", {
    files: { "Cargo.toml": workspace },
    fakes: { cargo: cargoOutput(["server", "worker"]) },
  });
  t.false(several.ok);
  t.true(
    several.output.includes("target/release holds 2: target/release/server target/release/worker"),
    several.output,
  );
});

test("go build stage: builds the root main package statically into ../bin/app", (t) => {
  const run = runBuildStage(t, "go", {
    files: { "go.mod": "module example.com/shop\n", "main.go": "package main\n" },
    fakes: { go: 'if [ "$1 $2 $3 $4" = "list -f {{.Name}} ." ]; then echo main; fi' },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["go list -f {{.Name}} .", "go build -trimpath -ldflags=-s -w -o ../bin/app ."]);
});

test("go build stage: the single main package under cmd/, or a refusal to guess among several", (t) => {
  const listMains = (mains: string) =>
    `if [ "$1 $2 $3 $4" = "list -f {{.Name}} ." ]; then echo shop; elif [ "$1" = list ]; then printf '%s\\n' ${mains}; fi`;
  const one = runBuildStage(t, "go", { fakes: { go: listMains("'' example.com/shop/cmd/server ''") } });
  t.true(one.ok, one.output);
  t.is(one.calls.at(-1), "go build -trimpath -ldflags=-s -w -o ../bin/app example.com/shop/cmd/server");

  const two = runBuildStage(t, "go", {
    fakes: { go: listMains("example.com/shop/cmd/server example.com/shop/cmd/migrate") },
  });
  t.false(two.ok);
  t.true(two.output.includes("expected one main package, found 2"), two.output);
});

test("go and rust build stages: a build command needs a start command", (t) => {
  for (const builder of ["go", "rust"] as const) {
    const refused = runBuildStage(t, builder, { args: { BUILD_COMMAND: "make server" } });
    t.false(refused.ok, builder);
    t.true(refused.output.includes("a build command is set but no start command"), refused.output);

    const built = runBuildStage(t, builder, {
      args: { BUILD_COMMAND: "echo built > server", START_COMMAND: "./server" },
    });
    t.true(built.ok, built.output);
    t.is(fs.readFileSync(path.join(built.workdir, "server"), "utf8"), "built\n");
    t.deepEqual(built.calls, [], `${builder} runs only the app's command`);
  }
});

test("python build stage: the lockfile picks the tool, installed beside the app's virtual environment", (t) => {
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
    const run = runBuildStage(t, "python", { files });
    t.true(run.ok, run.output);
    t.deepEqual(run.calls, calls, Object.keys(files).join(" "));
    t.false(fs.existsSync(path.join(run.root, "build", "requirements.txt")), "pipenv's export is cleaned up");
  }
});

test("python build stage: PACKAGE_MANAGER and BUILD_COMMAND hints", (t) => {
  const run = runBuildStage(t, "python", {
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

  const unknown = runBuildStage(t, "python", { args: { PACKAGE_MANAGER: "conda" } });
  t.false(unknown.ok);
  t.true(unknown.output.includes("PACKAGE_MANAGER must be one of pip, poetry, uv, pipenv, got 'conda'"));
});

test("ruby build stage: deployment mode with a lockfile; the build command gets a dummy secret key", (t) => {
  const run = runBuildStage(t, "ruby", {
    files: { Gemfile: "gem 'rails'\n", "Gemfile.lock": "" },
    args: { BUILD_COMMAND: 'echo "$SECRET_KEY_BASE_DUMMY $RAILS_ENV" > assets.txt' },
  });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["bundle config set --local deployment true", "bundle install --jobs 4 --retry 3"]);
  t.is(fs.readFileSync(path.join(run.workdir, "assets.txt"), "utf8"), "1 production\n");

  const unlocked = runBuildStage(t, "ruby", { files: { Gemfile: "" } });
  t.deepEqual(unlocked.calls, ["bundle install --jobs 4 --retry 3"]);
});

test("php build stage: composer install without dev dependencies", (t) => {
  const run = runBuildStage(t, "php", { files: { "composer.json": "{}" } });
  t.true(run.ok, run.output);
  t.deepEqual(run.calls, ["composer install --no-dev --prefer-dist --optimize-autoloader --no-progress"]);
  const plain = runBuildStage(t, "php", { files: { "index.php": "<?php echo 1;" } });
  t.deepEqual(plain.calls, []);
});

test("static build stage: the folder as is, or the build command's output folder", (t) => {
  const asIs = runBuildStage(t, "static", { files: { "index.html": "<h1>home</h1>", "css/site.css": "body{}" } });
  t.true(asIs.ok, asIs.output);
  t.deepEqual(asIs.calls, []);
  t.is(fs.readFileSync(path.join(asIs.root, "build", "site", "css", "site.css"), "utf8"), "body{}");

  const built = runBuildStage(t, "static", {
    files: { "package.json": PACKAGE_JSON_WITH_BUILD, "package-lock.json": "{}", "public/favicon.ico": "" },
    args: { BUILD_COMMAND: "mkdir -p dist && echo '<h1>built</h1>' > dist/index.html" },
  });
  t.true(built.ok, built.output);
  t.deepEqual(built.calls, ["npm ci"]);
  t.is(fs.readFileSync(path.join(built.root, "build", "site", "index.html"), "utf8"), "<h1>built</h1>\n");
  t.false(fs.existsSync(path.join(built.root, "build", "site", "package.json")));

  const empty = runBuildStage(t, "static", { args: { BUILD_COMMAND: "true" } });
  t.false(empty.ok);
  t.true(
    empty.output.includes("the build command left no index.html in dist/, build/, out/, public/, _site/"),
    empty.output,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfiles: the start command, executed
// ---------------------------------------------------------------------------------------------------------------

/** Runs the final stage's CMD like the container would, in a folder standing in for the app's. */
function start(
  t: ExecutionContext,
  builder: GeneratedBuilder,
  options: { files?: Record<string, string>; env?: Record<string, string> } = {},
): StageRun {
  const root = tempDir(t);
  const { stages } = stagesOf(dockerfileFor(builder));
  const cmd = stages.at(-1)!.instructions.find((instruction) => instruction.getKeyword() === "CMD")!;
  const [shell, flag, script, ...rest] = JSON.parse(cmd.getArgumentsContent()!) as string[];
  t.deepEqual([shell, flag, rest], ["/bin/sh", "-c", []]);
  const workdir = path.join(root, "app");
  fs.mkdirSync(workdir);
  writeFiles(workdir, options.files ?? {});
  const env = { CALLS: path.join(root, "calls"), HOME: root, PORT: "9999", START_COMMAND: "", ...options.env };
  fs.writeFileSync(env.CALLS, "");
  const fakes = { "apache2-foreground": 'echo "document root $APACHE_DOCUMENT_ROOT, port $PORT" >> "$CALLS"' };
  const result = spawnSync("/bin/sh", ["-c", script!], {
    cwd: workdir,
    env: { ...env, PATH: toolbox(t, root, fakes) },
    encoding: "utf8",
  });
  const calls = fs
    .readFileSync(env.CALLS, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((call) => call.trimEnd());
  return { ok: result.status === 0, output: result.stdout + result.stderr, calls, workdir, root };
}

test("START_COMMAND runs through a shell at start, with the runtime PORT, in every image that has one", (t) => {
  for (const builder of GENERATED.filter((candidate) => candidate !== "static")) {
    const run = start(t, builder, { env: { START_COMMAND: 'echo "listening on $PORT" > started.txt' } });
    t.true(run.ok, `${builder}: ${run.output}`);
    t.is(fs.readFileSync(path.join(run.workdir, "started.txt"), "utf8"), "listening on 9999\n", builder);
    t.deepEqual(run.calls, [], `${builder} ran its default too`);
  }
});

test("default starts: java on PORT, npm start, Rails, Puma, Django under gunicorn, Python scripts, Apache", (t) => {
  t.deepEqual(start(t, "maven").calls, ["java -XX:MaxRAMPercentage=75 -Dserver.port=9999 -jar /app/app.jar"]);
  t.deepEqual(start(t, "gradle", { env: { JAVA_OPTS: "-Xss512k -Dfoo=bar" } }).calls, [
    "java -XX:MaxRAMPercentage=75 -Xss512k -Dfoo=bar -Dserver.port=9999 -jar /app/app.jar",
  ]);
  t.deepEqual(start(t, "node").calls, ["npm start"]);
  t.deepEqual(start(t, "ruby", { files: { "bin/rails": "" } }).calls, ["bundle exec rails server -b 0.0.0.0 -p 9999"]);
  t.deepEqual(start(t, "ruby", { files: { "Gemfile.lock": "GEM\n  specs:\n    puma (6.4.2)\n" } }).calls, [
    "bundle exec puma -b tcp://0.0.0.0:9999",
  ]);
  t.deepEqual(start(t, "ruby", { files: { "config.ru": "" } }).calls, [
    "bundle exec rackup --host 0.0.0.0 --port 9999",
  ]);
  t.deepEqual(start(t, "python", { files: { "manage.py": "", "shop/wsgi.py": "", "app.py": "" } }).calls, [
    "gunicorn shop.wsgi",
  ]);
  t.deepEqual(start(t, "python", { files: { "app.py": "", "server.py": "" } }).calls, ["python app.py"]);
  t.deepEqual(start(t, "php", { files: { "public/index.php": "" } }).calls, [
    "apache2-foreground",
    "document root /var/www/html/public, port 9999",
  ]);
  t.deepEqual(start(t, "php", { files: { "index.php": "" } }).calls, [
    "apache2-foreground",
    "document root /var/www/html, port 9999",
  ]);

  const nothing = start(t, "python");
  t.false(nothing.ok);
  t.true(nothing.output.includes("no start command, and no main.py, app.py or server.py to run"));
});

test("static: nginx serves the site on PORT through the image's template, as the nginx user", (t) => {
  const { stages } = stagesOf(dockerfileFor("static"));
  const final = stages.at(-1)!;
  t.is(final.from.getArguments()[0]!.getValue(), `${LIBRARY}nginx:stable-alpine`);
  const cmd = final.instructions.find((instruction) => instruction.getKeyword() === "CMD")!;
  t.deepEqual(JSON.parse(cmd.getArgumentsContent()!), ["nginx", "-g", "daemon off;"]);

  // Run the template-writing script against a copy of the paths it touches.
  const root = tempDir(t);
  const setup = final.instructions.find((instruction) => instruction.getKeyword() === "RUN")!.getArgumentsContent()!;
  const relocated = setup
    .replaceAll("/etc/nginx", `${root}/etc/nginx`)
    .replaceAll("/var/cache/nginx", `${root}/var/cache/nginx`);
  t.false(/(^|[\s'"])\/(etc|var)\//.test(relocated), "every path was relocated");
  writeFiles(root, {
    "etc/nginx/nginx.conf": "user  nginx;\nworker_processes  auto;\npid        /var/run/nginx.pid;\n",
    "etc/nginx/conf.d/default.conf": "server { listen 80; }\n",
    "var/cache/nginx/.keep": "",
  });
  const result = spawnSync("/bin/sh", ["-c", relocated.replace("chown -R nginx:nginx", "echo would chown")], {
    encoding: "utf8",
  });
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
