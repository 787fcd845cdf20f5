import type { Builder } from "../runtime/builders";

/**
 * What each CodeBuild project runs: a buildspec that turns the staged commit into one container image, and the
 * Dockerfile each builder generates when the app has none. Pure text, no `@pulumi/*`: tests execute these commands
 * with bash, and the local platform can run the same ones.
 */

/** Builders that generate a Dockerfile; the `docker` builder only ever uses the app's own. */
export type GeneratedBuilder = Exclude<Builder, "docker">;

/** Optional detection hints the inspector may set on a build, next to DEPLOYMENT_ID, COMMIT_SHA, REPOSITORY… */
export const BUILD_ENV_HINTS = ["BUILD_COMMAND", "START_COMMAND", "RUNTIME_VERSION", "PACKAGE_MANAGER"] as const;
export type BuildEnvHint = (typeof BUILD_ENV_HINTS)[number];

const MAX_HINT_LENGTH = 500;

/**
 * Whether a hint may be handed to a build: one line of printable ASCII, at most 500 characters. The buildspec passes
 * hints to Docker as quoted data, never as shell text; this keeps logs readable and build arguments single-line.
 */
export function isSafeHint(value: string): boolean {
  return value.length <= MAX_HINT_LENGTH && /^[\x20-\x7e]*$/.test(value);
}

/** Where base images come from: Docker's official images mirrored on ECR Public, clear of Docker Hub's pull limits. */
const LIBRARY = "public.ecr.aws/docker/library";

/** Runtime used when detection found no version. A hint (`RUNTIME_VERSION`) replaces it. */
const DEFAULT_RUNTIME_VERSIONS: Readonly<Record<GeneratedBuilder, string>> = {
  maven: "21",
  gradle: "21",
  node: "22",
  python: "3.12",
  go: "1",
  rust: "1",
  ruby: "3.4",
  php: "8.3",
  static: "22", // the Node.js that runs a static site's build command
};

/** Port an app listens on unless the platform sets `PORT` otherwise. */
const DEFAULT_PORT = 8080;

/** Uid of the user apps run as where the base image has no unprivileged user of its own. */
const APP_UID = 10001;

// ---------------------------------------------------------------------------------------------------------------
// Buildspec
// ---------------------------------------------------------------------------------------------------------------

/** Variables every build needs: the project sets the first, CodeBuild the last two, the inspector the rest. */
const REQUIRED_VARIABLES = [
  "IMAGE_REPOSITORY_URI",
  "DEPLOYMENT_ID",
  "COMMIT_SHA",
  "REPOSITORY",
  "AWS_REGION",
  "CODEBUILD_SRC_DIR",
];

/** Ends the generated Dockerfile's here-document; a Dockerfile line equal to it would cut the file short. */
const DOCKERFILE_DELIMITER = "SLIPWAY_DOCKERFILE";

/**
 * Every command starts strict and defines its own `slipway_fail`, so it behaves the same whether CodeBuild runs the
 * commands in one shell (buildspec 0.2) or each in its own. Variables are prefixed `slipway_` to stay out of the way.
 */
const PRELUDE = ["set -euo pipefail", 'slipway_fail() { echo "Slipway: $*" >&2; exit 1; }'];

const CHECK_VARIABLES = [
  ...PRELUDE,
  `for slipway_name in ${REQUIRED_VARIABLES.join(" ")}; do`,
  '  [ -n "${!slipway_name:-}" ] || slipway_fail "$slipway_name is not set (the build project sets IMAGE_REPOSITORY_URI; the inspector sets DEPLOYMENT_ID, COMMIT_SHA and REPOSITORY on every build)"',
  "done",
  '[[ "$COMMIT_SHA" =~ ^[0-9a-f]{40}$ ]] || slipway_fail "COMMIT_SHA must be a full 40-character commit SHA, got \'$COMMIT_SHA\'"',
  '[[ "$DEPLOYMENT_ID" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || slipway_fail "DEPLOYMENT_ID \'$DEPLOYMENT_ID\' cannot be an image tag"',
].join("\n");

const ECR_LOGIN = [
  ...PRELUDE,
  'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${IMAGE_REPOSITORY_URI%%/*}"',
].join("\n");

/**
 * Enters the app: the archive's single top-level folder (GitHub names it `<owner>-<repo>-<sha7>`), then
 * ROOT_DIRECTORY inside it. Paths are absolute so running it twice in one shell lands in the same place.
 */
const ENTER_SOURCE = [
  ...PRELUDE,
  "mapfile -d '' -t slipway_entries < <(find \"$CODEBUILD_SRC_DIR\" -mindepth 1 -maxdepth 1 -print0)",
  'if [ "${#slipway_entries[@]}" -ne 1 ] || [ ! -d "${slipway_entries[0]}" ]; then',
  "  slipway_fail \"the source archive must hold exactly one top-level folder (GitHub's <owner>-<repo>-<sha7>/), but $CODEBUILD_SRC_DIR holds ${#slipway_entries[@]} entries: $(ls -A \"$CODEBUILD_SRC_DIR\" | head -n 20 | tr '\\n' ' ')\"",
  "fi",
  'slipway_root="${ROOT_DIRECTORY:-}"',
  '[[ "$slipway_root" != /* ]] || slipway_fail "ROOT_DIRECTORY must be relative to the repository root, got \'$slipway_root\'"',
  "[[ \"/$slipway_root/\" != */../* ]] || slipway_fail \"ROOT_DIRECTORY may not leave the repository with '..', got '$slipway_root'\"",
  'slipway_top="$(cd -P "${slipway_entries[0]}" && pwd)"',
  'slipway_app="$(cd -P "$slipway_top/$slipway_root" 2>/dev/null && pwd)" || slipway_fail "ROOT_DIRECTORY \'$slipway_root\' is not a folder of $REPOSITORY at $COMMIT_SHA"',
  '[[ "$slipway_app" == "$slipway_top" || "$slipway_app" == "$slipway_top"/* ]] || slipway_fail "ROOT_DIRECTORY \'$slipway_root\' leads outside the repository (through a symbolic link)"',
  'cd "$slipway_app"',
  'echo "Slipway: building $REPOSITORY at $COMMIT_SHA from ${slipway_root:-the repository root}"',
].join("\n");

/** Tags and labels every image carries, as a bash array of quoted words. */
const DOCKER_BUILD_ARGS = [
  "slipway_args=(build",
  '  --tag "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID" --tag "$IMAGE_REPOSITORY_URI:$COMMIT_SHA"',
  '  --label "org.opencontainers.image.revision=$COMMIT_SHA"',
  '  --label "org.opencontainers.image.source=https://github.com/$REPOSITORY"',
  '  --label "dev.slipway.deployment-id=$DEPLOYMENT_ID")',
].join("\n");

/**
 * Hints become `--build-arg NAME=value` words: bash expands each value once, as data, so nothing in a hint is ever
 * run here. A RUNTIME_VERSION that is not a plain version number would make an invalid base image tag; it is
 * dropped so the builder's default applies.
 */
const HINT_BUILD_ARGS = [
  "slipway_version_pattern='^[0-9]+([.][0-9]+){0,2}$'",
  `for slipway_hint in ${BUILD_ENV_HINTS.join(" ")}; do`,
  '  slipway_value="${!slipway_hint:-}"',
  '  [ -n "$slipway_value" ] || continue',
  '  if [ "$slipway_hint" = RUNTIME_VERSION ] && ! [[ "$slipway_value" =~ $slipway_version_pattern ]]; then',
  "    echo \"Slipway: ignoring RUNTIME_VERSION '$slipway_value' (expected a version number such as 20 or 3.12); the builder's default applies\" >&2",
  "    continue",
  "  fi",
  '  slipway_args+=(--build-arg "$slipway_hint=$slipway_value")',
  "done",
].join("\n");

function buildCommand(builder: Builder): string {
  const withoutDockerfile =
    builder === "docker"
      ? [
          "else",
          '  slipway_fail "the docker builder builds the app\'s own Dockerfile, and ${ROOT_DIRECTORY:-the repository root} has none"',
        ]
      : [
          "else",
          // Outside the build context, so the app's files are exactly what COPY sees.
          '  slipway_dockerfile="$(mktemp -d)/Dockerfile"',
          `  cat > "$slipway_dockerfile" <<'${DOCKERFILE_DELIMITER}'`,
          dockerfileFor(builder).trimEnd(),
          DOCKERFILE_DELIMITER,
          `  echo "Slipway: building with the generated ${builder} Dockerfile:"`,
          '  cat "$slipway_dockerfile"',
          '  slipway_args+=(--file "$slipway_dockerfile")',
          // The hints describe the generated Dockerfile's ARGs; an app's own Dockerfile may use those names otherwise.
          ...HINT_BUILD_ARGS.split("\n").map((line) => `  ${line}`),
        ];
  return [
    ENTER_SOURCE,
    DOCKER_BUILD_ARGS,
    "if [ -f Dockerfile ]; then",
    '  echo "Slipway: building with the app\'s own Dockerfile"',
    ...withoutDockerfile,
    "fi",
    'docker "${slipway_args[@]}" .',
  ].join("\n");
}

/** Pushes only a build that succeeded (post_build runs either way), deployment tag last. */
const PUSH = [
  ...PRELUDE,
  'if [ "${CODEBUILD_BUILD_SUCCEEDING:-0}" != 1 ]; then',
  '  echo "Slipway: the build failed, so no image was pushed" >&2',
  "else",
  '  docker push "$IMAGE_REPOSITORY_URI:$COMMIT_SHA"',
  '  docker push "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID"',
  '  slipway_digest="$(docker image inspect --format \'{{range .RepoDigests}}{{println .}}{{end}}\' "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID" | grep -F "$IMAGE_REPOSITORY_URI@" | head -n 1)" || slipway_digest="(digest unknown)"',
  '  echo "Slipway: pushed ${slipway_digest:-(digest unknown)} as $IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID and :$COMMIT_SHA"',
  "fi",
].join("\n");

/**
 * The buildspec (version 0.2, JSON, which CodeBuild reads as YAML) of a builder's CodeBuild project: log in to ECR,
 * enter the app's folder, build its image with the app's own Dockerfile or the builder's, push both tags.
 */
export function buildspecFor(builder: Builder): string {
  const buildspec = {
    version: 0.2,
    env: { shell: "bash" },
    phases: {
      pre_build: { commands: [CHECK_VARIABLES, ECR_LOGIN, ENTER_SOURCE] },
      build: { commands: [buildCommand(builder)] },
      post_build: { commands: [PUSH] },
    },
  };
  return JSON.stringify(buildspec, null, 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfiles
// ---------------------------------------------------------------------------------------------------------------

/**
 * A RUN instruction from shell lines. Docker joins continued lines into one, so every line must end its statement
 * (`;`, `then`, `do`, `else`, `&&`…) and none may be empty or start with `#`.
 */
function run(...lines: string[]): string {
  return `RUN ${lines.join(" \\\n    ")}`;
}

/**
 * The app's final settings: `PORT` in its environment and exposed, an unprivileged user, and a start that prefers
 * START_COMMAND (run by a shell, so it may use `$PORT`) over the builder's default. The start is JSON-form CMD text,
 * which Docker leaves alone; the hint arrives through ENV as data.
 */
function serve(user: string, defaultStart: string): string[] {
  const start = `if [ -n "\${START_COMMAND:-}" ]; then exec /bin/sh -c "$START_COMMAND"; fi; ${defaultStart}`;
  return [
    `ARG PORT=${DEFAULT_PORT}`,
    'ARG START_COMMAND=""',
    'ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"',
    "EXPOSE ${PORT}",
    `USER ${user}`,
    `CMD ${JSON.stringify(["/bin/sh", "-c", start])}`,
  ];
}

function header(builder: GeneratedBuilder): string[] {
  return [
    `# Generated by Slipway's ${builder} builder; a Dockerfile in the app's folder replaces it.`,
    `ARG RUNTIME_VERSION=${DEFAULT_RUNTIME_VERSIONS[builder]}`,
  ];
}

/** Debian/Ubuntu base images: a system user owning the app, home at /app, no login. */
const ADD_APP_USER_DEBIAN = `useradd --system --uid ${APP_UID} --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app`;

/** Runs BUILD_COMMAND when given; the hint is the app's own build step, so it runs inside the image build. */
const RUN_BUILD_COMMAND =
  'if [ -n "$BUILD_COMMAND" ]; then echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND"; fi;';

// --- Node.js package managers, as data ---------------------------------------------------------------------------

const KEEP_DEV_DEPENDENCIES = 'echo "Slipway: could not drop devDependencies; keeping them" >&2';

interface NodePackageManager {
  /** Lockfiles that identify it; the first package manager whose lockfile exists wins. */
  readonly lockfiles: readonly string[];
  /** Install everything the build needs, following the lockfile exactly… */
  readonly installLocked: string;
  /** …or resolving afresh when there is none. */
  readonly install: string;
  /** Drops devDependencies after the build (where it can fail harmlessly, a failure keeps them). */
  readonly prune: string;
}

const NODE_PACKAGE_MANAGERS: Readonly<Record<"pnpm" | "yarn" | "bun" | "npm", NodePackageManager>> = {
  pnpm: {
    lockfiles: ["pnpm-lock.yaml"],
    installLocked: "pnpm install --frozen-lockfile",
    install: "pnpm install",
    prune: `pnpm prune --prod || ${KEEP_DEV_DEPENDENCIES}`,
  },
  yarn: {
    lockfiles: ["yarn.lock"],
    // Yarn 2+ (a .yarnrc.yml) renamed the flags.
    installLocked: "if [ -f .yarnrc.yml ]; then yarn install --immutable; else yarn install --frozen-lockfile; fi",
    install: "yarn install",
    // `workspaces focus` needs a plugin before Yarn 4.
    prune: `if [ -f .yarnrc.yml ]; then yarn workspaces focus --all --production || ${KEEP_DEV_DEPENDENCIES}; else yarn install --production --ignore-scripts --prefer-offline; fi`,
  },
  bun: {
    lockfiles: ["bun.lock", "bun.lockb"],
    installLocked: "bun install --frozen-lockfile",
    install: "bun install",
    prune: "rm -rf node_modules && bun install --production",
  },
  npm: {
    lockfiles: ["package-lock.json", "npm-shrinkwrap.json"],
    installLocked: "npm ci",
    install: "npm install",
    prune: "npm prune --omit=dev",
  },
};

const NODE_PACKAGE_MANAGER_NAMES = Object.keys(NODE_PACKAGE_MANAGERS) as (keyof typeof NODE_PACKAGE_MANAGERS)[];

function anyFile(files: readonly string[]): string {
  return files.map((file) => `[ -f ${file} ]`).join(" || ");
}

/** `if <lockfile>; then pm=<manager>; elif …; else pm=<fallback>; fi;`: the first entry whose lockfile exists wins. */
function chooseByLockfile(
  entries: readonly (readonly [lockfiles: readonly string[], manager: string])[],
  fallback: string,
): string {
  const branches = entries.map(([lockfiles, manager]) => `${anyFile(lockfiles)}; then pm=${manager};`);
  return `if ${branches.join(" elif ")} else pm=${fallback}; fi;`;
}

/** Sets `pm` from PACKAGE_MANAGER or, without it, from the lockfile (npm when there is none). */
const CHOOSE_NODE_PACKAGE_MANAGER = [
  'pm="${PACKAGE_MANAGER:-}";',
  `if [ -z "$pm" ]; then ${chooseByLockfile(
    NODE_PACKAGE_MANAGER_NAMES.filter((name) => name !== "npm").map((name) => [
      NODE_PACKAGE_MANAGERS[name].lockfiles,
      name,
    ]),
    "npm",
  )} fi;`,
  `case "$pm" in ${NODE_PACKAGE_MANAGER_NAMES.join("|")}) ;; *) echo "Slipway: PACKAGE_MANAGER must be one of ${NODE_PACKAGE_MANAGER_NAMES.join(", ")}, got '$pm'" >&2; exit 1;; esac;`,
];

function nodeCase(command: (manager: NodePackageManager) => string): string {
  const branches = NODE_PACKAGE_MANAGER_NAMES.map((name) => `${name}) ${command(NODE_PACKAGE_MANAGERS[name])};;`);
  return `case "$pm" in ${branches.join(" ")} esac;`;
}

/**
 * Makes `$pm` runnable: Corepack first (it honours package.json's `packageManager` version), then one already on
 * the image (Yarn 1 ships with it), then a global npm install (bun, and Node.js releases without Corepack).
 */
const SET_UP_NODE_PACKAGE_MANAGER =
  'if [ "$pm" != npm ]; then corepack enable "$pm" 2>/dev/null || command -v "$pm" >/dev/null || npm install --global "$pm"; fi;';

const INSTALL_NODE_DEPENDENCIES = [
  ...CHOOSE_NODE_PACKAGE_MANAGER,
  'echo "Slipway: installing dependencies with $pm";',
  SET_UP_NODE_PACKAGE_MANAGER,
  nodeCase((manager) => `if ${anyFile(manager.lockfiles)}; then ${manager.installLocked}; else ${manager.install}; fi`),
];

const NODE_IMAGE = `${LIBRARY}/node:\${RUNTIME_VERSION}-bookworm-slim`;

function nodeDockerfile(): string[] {
  return [
    ...header("node"),
    `FROM ${NODE_IMAGE} AS build`,
    "WORKDIR /build/src",
    'ARG PACKAGE_MANAGER=""',
    'ARG BUILD_COMMAND=""',
    "ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 NEXT_TELEMETRY_DISABLED=1",
    "COPY . .",
    run(
      "set -eu;",
      ...INSTALL_NODE_DEPENDENCIES,
      'if [ -n "$BUILD_COMMAND" ]; then echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND";',
      'elif node -e "process.exit(require(\'./package.json\').scripts?.build ? 0 : 1)"; then "$pm" run build;',
      "fi;",
      nodeCase((manager) => manager.prune),
    ),
    `FROM ${NODE_IMAGE}`,
    'ARG PACKAGE_MANAGER=""',
    "ENV NODE_ENV=production",
    "WORKDIR /app",
    "COPY --from=build --chown=node:node /build/src /app",
    // A start command may call the package manager; install it now, not on the first start.
    run(
      "set -eu;",
      ...CHOOSE_NODE_PACKAGE_MANAGER,
      'if [ "$pm" != npm ] && ! command -v "$pm" >/dev/null; then npm install --global "$pm"; rm -rf /root/.npm; fi',
    ),
    ...serve("node", "exec npm start"),
  ];
}

// --- JVM ----------------------------------------------------------------------------------------------------------

/**
 * Copies the runnable application to ../out/app.jar: Quarkus's fast-jar folder as a whole, otherwise the one jar
 * (sources, javadoc, test and plain jars aside) whose manifest names a Main-Class.
 */
function collectJvmApplication(buildDirs: readonly string[], jarGlobs: readonly string[]): string {
  return run(
    "set -eu; mkdir -p ../out; quarkus='';",
    `for dir in ${buildDirs.join(" ")}; do if [ -f "$dir/quarkus-app/quarkus-run.jar" ]; then quarkus="$dir/quarkus-app"; fi; done;`,
    'if [ -n "$quarkus" ]; then cp -a "$quarkus/." ../out/; ln -s quarkus-run.jar ../out/app.jar; exit 0; fi;',
    "workdir=\"$PWD\"; runnable='';",
    `for jar in ${jarGlobs.join(" ")}; do`,
    '[ -f "$jar" ] || continue;',
    'case "$jar" in *-sources.jar|*-javadoc.jar|*-tests.jar|*-test-fixtures.jar|*-plain.jar|*/original-*.jar) continue;; esac;',
    'manifest="$(mktemp -d)"; (cd "$manifest" && jar xf "$workdir/$jar" META-INF/MANIFEST.MF) || true;',
    'if grep -qi "^Main-Class:" "$manifest/META-INF/MANIFEST.MF" 2>/dev/null; then runnable="$runnable $jar"; fi;',
    'rm -rf "$manifest";',
    "done;",
    "set -- $runnable;",
    `if [ "$#" -eq 0 ]; then echo "Slipway: the build made no runnable jar (one whose manifest has a Main-Class) in ${jarGlobs.join(" ")}" >&2; exit 1; fi;`,
    'if [ "$#" -gt 1 ]; then echo "Slipway: the build made several runnable jars ($*); deploy one module by setting the root directory" >&2; exit 1; fi;',
    'echo "Slipway: the app is $1"; cp "$1" ../out/app.jar',
  );
}

const JAVA_START = 'exec java -XX:MaxRAMPercentage=75 ${JAVA_OPTS:-} -Dserver.port="$PORT" -jar /app/app.jar';

function jvmRuntime(): string[] {
  return [
    `FROM ${LIBRARY}/eclipse-temurin:\${RUNTIME_VERSION}-jre`,
    `RUN ${ADD_APP_USER_DEBIAN}`,
    "WORKDIR /app",
    "COPY --from=build --chown=app:app /build/out/ /app/",
    ...serve("app", JAVA_START),
  ];
}

function mavenDockerfile(): string[] {
  return [
    ...header("maven"),
    `FROM ${LIBRARY}/maven:3-eclipse-temurin-\${RUNTIME_VERSION} AS build`,
    "WORKDIR /build/src",
    'ARG BUILD_COMMAND=""',
    "COPY . .",
    run(
      "set -eu;",
      'if [ -n "$BUILD_COMMAND" ]; then echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND";',
      "elif [ -f mvnw ]; then chmod +x mvnw; ./mvnw --batch-mode package -DskipTests;",
      "else mvn --batch-mode package -DskipTests;",
      "fi",
    ),
    collectJvmApplication(["target"], ["target/*.jar", "*/target/*.jar"]),
    ...jvmRuntime(),
  ];
}

function gradleDockerfile(): string[] {
  return [
    ...header("gradle"),
    `FROM ${LIBRARY}/gradle:jdk\${RUNTIME_VERSION} AS build`,
    "WORKDIR /build/src",
    'ARG BUILD_COMMAND=""',
    "COPY . .",
    run(
      "set -eu;",
      'if [ -n "$BUILD_COMMAND" ]; then echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND";',
      "else",
      "if [ -f gradlew ]; then chmod +x gradlew; gradle=./gradlew; else gradle=gradle; fi;",
      // Spring Boot's bootJar is the one jar to run; otherwise assemble builds every artifact without running checks.
      "task=assemble; if grep -qs org.springframework.boot build.gradle build.gradle.kts; then task=bootJar; fi;",
      '"$gradle" --no-daemon "$task";',
      "fi",
    ),
    collectJvmApplication(["build"], ["build/libs/*.jar", "*/build/libs/*.jar"]),
    ...jvmRuntime(),
  ];
}

// --- Python -------------------------------------------------------------------------------------------------------

const PYTHON_IMAGE = `${LIBRARY}/python:\${RUNTIME_VERSION}-slim`;

/** Lockfiles that identify the package manager, in the order they are looked for; pip without any. */
const PYTHON_LOCKFILES: readonly (readonly [file: string, manager: string])[] = [
  ["uv.lock", "uv"],
  ["poetry.lock", "poetry"],
  ["Pipfile", "pipenv"],
];

/** How each package manager installs the app's runtime dependencies into the active virtual environment. */
const PYTHON_INSTALLS: Readonly<Record<string, string>> = {
  pip: 'if [ -f requirements.txt ]; then pip install -r requirements.txt; elif [ -f pyproject.toml ] || [ -f setup.py ]; then pip install .; else echo "Slipway: no requirements.txt, pyproject.toml or setup.py; no dependencies installed"; fi',
  poetry: "poetry install --only main --no-root --no-interaction",
  uv: "if [ -f uv.lock ]; then uv sync --frozen --no-dev; elif [ -f pyproject.toml ]; then uv sync --no-dev; else uv pip install -r requirements.txt; fi",
  pipenv:
    "if [ ! -f Pipfile.lock ]; then pipenv lock; fi; pipenv requirements > ../requirements.txt; pip install -r ../requirements.txt",
};

/** Without START_COMMAND: Django under gunicorn when both are there, else the usual entry scripts. */
const PYTHON_START = [
  'if [ -f manage.py ] && command -v gunicorn >/dev/null; then for wsgi in */wsgi.py; do if [ -f "$wsgi" ]; then exec gunicorn "${wsgi%/wsgi.py}.wsgi"; fi; done; fi;',
  'for script in main.py app.py server.py; do if [ -f "$script" ]; then exec python "$script"; fi; done;',
  'echo "Slipway: no start command, and no main.py, app.py or server.py to run; set the start command" >&2; exit 1',
].join(" ");

function pythonDockerfile(): string[] {
  const managers = Object.keys(PYTHON_INSTALLS);
  return [
    ...header("python"),
    `FROM ${PYTHON_IMAGE} AS build`,
    run(
      "apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev",
      "&& rm -rf /var/lib/apt/lists/*",
    ),
    // Poetry and uv install into the active virtual environment, which the final image takes whole.
    "ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore POETRY_VIRTUALENVS_CREATE=false UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never",
    "WORKDIR /build/src",
    'ARG PACKAGE_MANAGER=""',
    'ARG BUILD_COMMAND=""',
    "COPY . .",
    run(
      "set -eu;",
      'pm="${PACKAGE_MANAGER:-}";',
      `if [ -z "$pm" ]; then ${chooseByLockfile(
        PYTHON_LOCKFILES.map(([file, manager]) => [[file], manager]),
        "pip",
      )} fi;`,
      `case "$pm" in ${managers.join("|")}) ;; *) echo "Slipway: PACKAGE_MANAGER must be one of ${managers.join(", ")}, got '$pm'" >&2; exit 1;; esac;`,
      'echo "Slipway: installing dependencies with $pm";',
      // The tool goes into the build stage's Python, the app's dependencies into /opt/venv.
      'if [ "$pm" != pip ]; then pip install "$pm"; fi;',
      'python -m venv /opt/venv; export VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH";',
      `case "$pm" in ${managers.map((manager) => `${manager}) ${PYTHON_INSTALLS[manager]};;`).join(" ")} esac;`,
      RUN_BUILD_COMMAND,
      "rm -f ../requirements.txt",
    ),
    `FROM ${PYTHON_IMAGE}`,
    run(
      "apt-get update && apt-get install -y --no-install-recommends libpq5",
      "&& rm -rf /var/lib/apt/lists/*",
      `&& ${ADD_APP_USER_DEBIAN}`,
    ),
    // gunicorn binds 0.0.0.0:$PORT by itself when PORT is set.
    "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1",
    "WORKDIR /app",
    "COPY --from=build /opt/venv /opt/venv",
    "COPY --from=build --chown=app:app /build/src /app",
    ...serve("app", PYTHON_START),
  ];
}

// --- Go and Rust: one binary, plus the app's files (templates, static assets) in /app --------------------------

/** With its own build command, the app must say what to start: only it knows what the command made. */
const REQUIRE_START_WITH_BUILD =
  'if [ -z "$START_COMMAND" ]; then echo "Slipway: a build command is set but no start command; set the start command to the program the build makes" >&2; exit 1; fi;';

function goDockerfile(): string[] {
  return [
    ...header("go"),
    `FROM ${LIBRARY}/golang:\${RUNTIME_VERSION}-alpine AS build`,
    "ENV CGO_ENABLED=0",
    "WORKDIR /build/src",
    'ARG BUILD_COMMAND=""',
    'ARG START_COMMAND=""',
    "COPY . .",
    run(
      "set -eu; mkdir -p ../bin;",
      'if [ -n "$BUILD_COMMAND" ]; then',
      REQUIRE_START_WITH_BUILD,
      'echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND";',
      "else",
      "if [ \"$(go list -f '{{.Name}}' . 2>/dev/null)\" = main ]; then package=.;",
      "else",
      'mains="$(go list -f \'{{if eq .Name "main"}}{{.ImportPath}}{{end}}\' ./... | grep . || true)";',
      "set -- $mains;",
      'if [ "$#" -ne 1 ]; then echo "Slipway: expected one main package, found $#: $*; set the root directory to the app, or the build and start commands" >&2; exit 1; fi;',
      'package="$1";',
      "fi;",
      'echo "Slipway: building $package";',
      'go build -trimpath -ldflags="-s -w" -o ../bin/app "$package";',
      "fi",
    ),
    `FROM ${LIBRARY}/alpine:3`,
    `RUN apk add --no-cache ca-certificates tzdata && adduser -D -H -u ${APP_UID} -s /sbin/nologin app`,
    "WORKDIR /app",
    "COPY --from=build --chown=app:app /build/src /app",
    "COPY --from=build /build/bin/ /usr/local/bin/",
    ...serve("app", "exec /usr/local/bin/app"),
  ];
}

function rustDockerfile(): string[] {
  return [
    ...header("rust"),
    // The full image: crates such as openssl-sys need its pkg-config and headers.
    `FROM ${LIBRARY}/rust:\${RUNTIME_VERSION}-bookworm AS build`,
    "WORKDIR /build/src",
    'ARG BUILD_COMMAND=""',
    'ARG START_COMMAND=""',
    "COPY . .",
    run(
      "set -eu; mkdir -p ../bin;",
      'if [ -n "$BUILD_COMMAND" ]; then',
      REQUIRE_START_WITH_BUILD,
      'echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND";',
      "else",
      "if [ -f Cargo.lock ]; then cargo build --release --locked; else cargo build --release; fi;",
      'name="$(sed -n \'/^\\[package\\]/,/^\\[/s/^name *= *"\\([^"]*\\)".*/\\1/p\' Cargo.toml | head -n 1)";',
      'if [ -n "$name" ] && [ -f "target/release/$name" ]; then binary="target/release/$name";',
      "else",
      "set -- $(find target/release -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.d' | sort);",
      'if [ "$#" -ne 1 ]; then echo "Slipway: cannot tell which binary to run: Cargo.toml\'s package is \'$name\' and target/release holds $#: $*; set the start command" >&2; exit 1; fi;',
      'binary="$1";',
      "fi;",
      'echo "Slipway: running $binary"; cp "$binary" ../bin/app; rm -rf target;',
      "fi",
    ),
    `FROM ${LIBRARY}/debian:bookworm-slim`,
    run(
      "apt-get update && apt-get install -y --no-install-recommends ca-certificates",
      "&& rm -rf /var/lib/apt/lists/*",
      `&& ${ADD_APP_USER_DEBIAN}`,
    ),
    "WORKDIR /app",
    "COPY --from=build --chown=app:app /build/src /app",
    "COPY --from=build /build/bin/ /usr/local/bin/",
    // Rocket reads its address and port from these; other frameworks read PORT.
    ...serve(
      "app",
      'export ROCKET_ADDRESS="${ROCKET_ADDRESS:-0.0.0.0}" ROCKET_PORT="${ROCKET_PORT:-$PORT}"; exec /usr/local/bin/app',
    ),
  ];
}

// --- Ruby ---------------------------------------------------------------------------------------------------------

const RUBY_IMAGE = `${LIBRARY}/ruby:\${RUNTIME_VERSION}-slim`;
const RUBY_ENV =
  "ENV BUNDLE_PATH=/usr/local/bundle BUNDLE_WITHOUT=development:test RAILS_ENV=production RACK_ENV=production";

/** Without START_COMMAND: Rails' server, else Puma when the bundle has it, else rackup. */
const RUBY_START = [
  'if [ -f bin/rails ]; then exec bundle exec rails server -b 0.0.0.0 -p "$PORT"; fi;',
  'if grep -qs "^    puma " Gemfile.lock; then exec bundle exec puma -b "tcp://0.0.0.0:$PORT"; fi;',
  'exec bundle exec rackup --host 0.0.0.0 --port "$PORT"',
].join(" ");

function rubyDockerfile(): string[] {
  return [
    ...header("ruby"),
    `FROM ${RUBY_IMAGE} AS build`,
    run(
      "apt-get update && apt-get install -y --no-install-recommends build-essential git libpq-dev libyaml-dev pkg-config",
      "&& rm -rf /var/lib/apt/lists/*",
    ),
    RUBY_ENV,
    "WORKDIR /build/src",
    'ARG BUILD_COMMAND=""',
    "COPY . .",
    run(
      "set -eu;",
      // Deployment mode needs the lockfile, and then installs exactly it; the setting travels in .bundle/config.
      "if [ -f Gemfile.lock ]; then bundle config set --local deployment true; fi;",
      "bundle install --jobs 4 --retry 3;",
      // Rails' asset precompilation needs a secret key; a dummy one is enough at build time.
      'if [ -n "$BUILD_COMMAND" ]; then echo "Slipway: running $BUILD_COMMAND"; SECRET_KEY_BASE_DUMMY=1 sh -c "$BUILD_COMMAND"; fi',
    ),
    `FROM ${RUBY_IMAGE}`,
    run(
      "apt-get update && apt-get install -y --no-install-recommends libpq5 libyaml-0-2",
      "&& rm -rf /var/lib/apt/lists/*",
      `&& ${ADD_APP_USER_DEBIAN}`,
    ),
    RUBY_ENV,
    "ENV RAILS_LOG_TO_STDOUT=1 RAILS_SERVE_STATIC_FILES=1",
    "WORKDIR /app",
    "COPY --from=build /usr/local/bundle /usr/local/bundle",
    "COPY --from=build --chown=app:app /build/src /app",
    ...serve("app", RUBY_START),
  ];
}

// --- PHP ----------------------------------------------------------------------------------------------------------

/**
 * Apache reads `${VAR}` from its environment when it starts, so the port and document root follow the container's
 * PORT and the app's layout (`public/` when there is one) without rewriting the configuration at start.
 */
const PHP_START =
  "if [ -d public ]; then APACHE_DOCUMENT_ROOT=/var/www/html/public; else APACHE_DOCUMENT_ROOT=/var/www/html; fi; export APACHE_DOCUMENT_ROOT; exec apache2-foreground";

function phpDockerfile(): string[] {
  return [
    ...header("php"),
    `FROM ${LIBRARY}/php:\${RUNTIME_VERSION}-apache AS base`,
    'RUN docker-php-ext-install -j"$(nproc)" pdo_mysql',
    "FROM base AS build",
    run("apt-get update && apt-get install -y --no-install-recommends git unzip", "&& rm -rf /var/lib/apt/lists/*"),
    `COPY --from=${LIBRARY}/composer:2 /usr/bin/composer /usr/local/bin/composer`,
    "ENV COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1",
    "WORKDIR /build/src",
    'ARG BUILD_COMMAND=""',
    "COPY . .",
    run(
      "set -eu;",
      "if [ -f composer.json ]; then composer install --no-dev --prefer-dist --optimize-autoloader --no-progress; fi;",
      RUN_BUILD_COMMAND,
    ),
    "FROM base",
    run(
      "set -eu; a2enmod rewrite;",
      "sed -ri 's!^Listen 80$!Listen ${PORT}!' /etc/apache2/ports.conf;",
      "sed -ri -e 's!<VirtualHost \\*:80>!<VirtualHost *:${PORT}>!' -e 's!DocumentRoot /var/www/html$!DocumentRoot ${APACHE_DOCUMENT_ROOT}!' /etc/apache2/sites-available/000-default.conf;",
      // Laravel and Symfony route through public/.htaccess.
      "printf '%s\\n' '<Directory ${APACHE_DOCUMENT_ROOT}>' '    AllowOverride All' '    Require all granted' '</Directory>' > /etc/apache2/conf-available/slipway.conf;",
      "a2enconf slipway",
    ),
    "ENV APACHE_DOCUMENT_ROOT=/var/www/html",
    "WORKDIR /var/www/html",
    "COPY --from=build --chown=www-data:www-data /build/src /var/www/html",
    // The image already lets www-data write Apache's run, lock and log folders; 8080 needs no root.
    ...serve("www-data", PHP_START),
  ];
}

// --- Static sites -------------------------------------------------------------------------------------------------

/** Where a build command's output is looked for, first with an index.html wins. */
const STATIC_OUTPUT_DIRS = ["dist", "build", "out", "public", "_site"];

/** nginx's image substitutes environment variables into templates at start; `$uri` is no variable, so it stays. */
const NGINX_SITE_TEMPLATE = [
  "server {",
  "    listen ${PORT};",
  "    root /usr/share/nginx/html;",
  // Client-side routes of single-page apps fall back to index.html.
  "    location / { try_files $uri $uri/ $uri.html /index.html; }",
  "}",
];

function staticDockerfile(): string[] {
  return [
    ...header("static"),
    `FROM ${NODE_IMAGE} AS build`,
    "WORKDIR /build/src",
    'ARG PACKAGE_MANAGER=""',
    'ARG BUILD_COMMAND=""',
    "ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0",
    "COPY . .",
    run(
      "set -eu; mkdir -p ../site;",
      'if [ -z "$BUILD_COMMAND" ]; then cp -a . ../site/;',
      "else",
      "if [ -f package.json ]; then",
      ...INSTALL_NODE_DEPENDENCIES,
      "fi;",
      'echo "Slipway: running $BUILD_COMMAND"; sh -c "$BUILD_COMMAND";',
      `out=''; for dir in ${STATIC_OUTPUT_DIRS.join(" ")}; do if [ -f "$dir/index.html" ]; then out="$dir"; break; fi; done;`,
      `if [ -z "$out" ]; then echo "Slipway: the build command left no index.html in ${STATIC_OUTPUT_DIRS.map((dir) => `${dir}/`).join(", ")}" >&2; exit 1; fi;`,
      'echo "Slipway: serving $out/"; cp -a "$out/." ../site/;',
      "fi",
    ),
    `FROM ${LIBRARY}/nginx:stable-alpine`,
    // nginx as its own unprivileged user: no `user` switch, pid and caches where it may write.
    run(
      "set -eu;",
      "sed -i -e '/^user /d' -e 's!^pid .*!pid /tmp/nginx.pid;!' /etc/nginx/nginx.conf;",
      "rm -f /etc/nginx/conf.d/default.conf; mkdir -p /etc/nginx/templates;",
      `printf '%s\\n' ${NGINX_SITE_TEMPLATE.map((line) => `'${line}'`).join(" ")} > /etc/nginx/templates/default.conf.template;`,
      "chown -R nginx:nginx /var/cache/nginx /etc/nginx/conf.d",
    ),
    "COPY --from=build --chown=nginx:nginx /build/site/ /usr/share/nginx/html/",
    `ARG PORT=${DEFAULT_PORT}`,
    "ENV PORT=${PORT}",
    "EXPOSE ${PORT}",
    "USER nginx",
    // The image's entrypoint renders the templates only when the command is nginx itself; a static site has no
    // start command of its own.
    'CMD ["nginx", "-g", "daemon off;"]',
  ];
}

const DOCKERFILES: Readonly<Record<GeneratedBuilder, () => string[]>> = {
  maven: mavenDockerfile,
  gradle: gradleDockerfile,
  node: nodeDockerfile,
  python: pythonDockerfile,
  go: goDockerfile,
  rust: rustDockerfile,
  ruby: rubyDockerfile,
  php: phpDockerfile,
  static: staticDockerfile,
};

/**
 * The multi-stage Dockerfile a builder uses for an app without its own. Build arguments RUNTIME_VERSION,
 * BUILD_COMMAND, START_COMMAND and PACKAGE_MANAGER refine it; without them it follows the app's files.
 */
export function dockerfileFor(builder: GeneratedBuilder): string {
  const lines = DOCKERFILES[builder]();
  if (lines.includes(DOCKERFILE_DELIMITER)) {
    throw new Error(
      `The ${builder} Dockerfile contains the line ${DOCKERFILE_DELIMITER}, which ends its here-document`,
    );
  }
  return `${lines.join("\n")}\n`;
}
