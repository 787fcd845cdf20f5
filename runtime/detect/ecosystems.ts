import type { Builder } from "../builders";
import type { DeclaredVersion, FolderFacts } from "./folderFacts";
import type { CommandTemplate, Ecosystem, Signal } from "./frameworks";
import { dockerImageVersion } from "./parse/dockerfile";
import { readPlainVersion, readProperty, readRustToolchain, readToolVersions } from "./parse/versionFiles";
import { joinPath } from "./repoPath";
import type { DeclaredVersions } from "./planTypes";

/** Per-stack defaults: the builder, and the commands a framework row does not override. */
export interface EcosystemDefaults {
  readonly builder: Builder | "by-build-tool";
  readonly build?: readonly CommandTemplate[];
  readonly start?: readonly CommandTemplate[];
}

export const ECOSYSTEMS: Readonly<Record<Ecosystem, EcosystemDefaults>> = {
  node: { builder: "node" },
  java: {
    builder: "by-build-tool",
    build: [
      { tool: "maven", run: "{mvn} -B -DskipTests package" },
      { tool: "gradle", run: "{gradle} build -x test" },
    ],
  },
  python: { builder: "python" },
  go: { builder: "go", build: [{ run: "go build -o app {pkg}" }], start: [{ run: "./app" }] },
  rust: { builder: "rust", build: [{ run: "cargo build --release" }], start: [{ run: "./target/release/{bin}" }] },
  ruby: { builder: "ruby" },
  php: { builder: "php" },
  static: { builder: "static" },
};

/** Node package managers: how each installs, runs a script and runs a package's binary. */
export const NODE_MANAGERS = {
  npm: { install: "npm install", lockedInstall: "npm ci", run: "npm run", exec: "npx" },
  pnpm: {
    install: "pnpm install",
    lockedInstall: "pnpm install --frozen-lockfile",
    run: "pnpm run",
    exec: "pnpm exec",
  },
  yarn: { install: "yarn install", lockedInstall: "yarn install --frozen-lockfile", run: "yarn run", exec: "yarn" },
  bun: { install: "bun install", lockedInstall: "bun install --frozen-lockfile", run: "bun run", exec: "bunx" },
} as const;
export type NodeManager = keyof typeof NODE_MANAGERS;

/** Python package managers, the first whose signal holds wins: a lockfile says more than a [tool] table. */
export const PYTHON_MANAGERS: readonly { readonly manager: PythonManager; readonly when: Signal }[] = [
  { manager: "uv", when: { file: "uv.lock" } },
  { manager: "poetry", when: { file: "poetry.lock" } },
  { manager: "pdm", when: { file: "pdm.lock" } },
  { manager: "pipenv", when: { file: "Pipfile" } },
  { manager: "pip", when: { file: "requirements*.txt" } },
  { manager: "pip", when: { file: "requirements/*.txt" } },
  { manager: "poetry", when: { pyprojectTool: "poetry" } },
  { manager: "uv", when: { pyprojectTool: "uv" } },
  { manager: "pdm", when: { pyprojectTool: "pdm" } },
];
export type PythonManager = "pip" | "uv" | "poetry" | "pdm" | "pipenv";

export const PYTHON_COMMANDS: Readonly<
  Record<PythonManager, { install: string; lockedInstall?: string; lockfile?: string; run: string }>
> = {
  pip: { install: "pip install -r {requirements}", run: "" },
  uv: { install: "uv sync --no-dev", lockedInstall: "uv sync --frozen --no-dev", lockfile: "uv.lock", run: "uv run " },
  poetry: { install: "poetry install --only main --no-root", run: "poetry run " },
  pdm: { install: "pdm install --prod", run: "pdm run " },
  pipenv: {
    install: "pipenv install",
    lockedInstall: "pipenv install --deploy",
    lockfile: "Pipfile.lock",
    run: "pipenv run ",
  },
};

/** Requirements files in the order pip should install from when several exist. */
export const REQUIREMENTS_PREFERENCE: readonly string[] = [
  "requirements.txt",
  "requirements/production.txt",
  "requirements/prod.txt",
  "requirements/base.txt",
  "requirements/common.txt",
  "requirements-prod.txt",
];

/** Where a Python app's entry module usually is; the first present names `{main}` and `{module}`. */
export const PYTHON_ENTRY_FILES: readonly string[] = [
  "main.py",
  "app.py",
  "wsgi.py",
  "asgi.py",
  "server.py",
  "application.py",
  "run.py",
  "app/main.py",
  "src/main.py",
  "api/main.py",
];

export const NODE_ENTRY_FILES: readonly string[] = [
  "server.js",
  "server.mjs",
  "index.js",
  "index.mjs",
  "app.js",
  "main.js",
  "src/index.js",
  "src/server.js",
];

type VersionSource = (facts: FolderFacts) => DeclaredVersion | undefined;

const plainFile =
  (name: string): VersionSource =>
  (facts) => {
    const found = facts.nearest(name);
    const value = found === undefined ? undefined : readPlainVersion(found.text);
    return value === undefined || found === undefined ? undefined : { value, line: 1, file: found.path };
  };
const toolVersion =
  (tool: string): VersionSource =>
  (facts) => {
    const found = facts.nearest(".tool-versions");
    const entry = found === undefined ? undefined : readToolVersions(found.text).get(tool);
    return entry === undefined || found === undefined ? undefined : { ...entry, file: found.path };
  };
const property =
  (name: string, key: string): VersionSource =>
  (facts) => {
    const text = facts.read(name);
    const entry = text === undefined ? undefined : readProperty(text, key);
    return entry === undefined ? undefined : { ...entry, file: joinPath(facts.folder, name) };
  };
const inFolder =
  (name: string, pick: (facts: FolderFacts) => { value: string; line: number } | undefined): VersionSource =>
  (facts) => {
    const found = pick(facts);
    return found === undefined ? undefined : { ...found, file: joinPath(facts.folder, name) };
  };

/** Where each stack declares its version, most authoritative first. */
export const VERSION_SOURCES: Readonly<Record<keyof DeclaredVersions, readonly VersionSource[]>> = {
  node: [
    inFolder("package.json", (f) => f.packageJson?.engineNode),
    inFolder("package.json", (f) => f.packageJson?.voltaNode),
    plainFile(".nvmrc"),
    plainFile(".node-version"),
    toolVersion("nodejs"),
  ],
  java: [
    (facts) => facts.javaVersion,
    plainFile(".java-version"),
    property("system.properties", "java.runtime.version"),
    (facts) => {
      const found = property(".sdkmanrc", "java")(facts);
      return found === undefined ? undefined : { ...found, value: found.value.replace(/-[a-z]+$/i, "") };
    },
    toolVersion("java"),
  ],
  python: [
    plainFile(".python-version"),
    (facts) => {
      const text = facts.read("runtime.txt");
      const value = text === undefined ? undefined : readPlainVersion(text);
      return value === undefined ? undefined : { value, line: 1, file: joinPath(facts.folder, "runtime.txt") };
    },
    inFolder("pyproject.toml", (f) => f.pyproject?.requiresPython),
    inFolder("Pipfile", (f) => f.pipfile?.python),
    toolVersion("python"),
  ],
  go: [inFolder("go.mod", (f) => f.goMod?.goVersion), toolVersion("golang")],
  ruby: [inFolder("Gemfile", (f) => f.gemfile?.ruby), plainFile(".ruby-version"), toolVersion("ruby")],
  php: [inFolder("composer.json", (f) => f.composer?.php)],
  rust: [
    (facts) => {
      for (const name of ["rust-toolchain.toml", "rust-toolchain"]) {
        const found = facts.nearest(name);
        const value = found === undefined ? undefined : readRustToolchain(found.text);
        if (value !== undefined && found !== undefined) return { value, line: 1, file: found.path };
      }
      return undefined;
    },
    inFolder("Cargo.toml", (f) => f.cargo?.rustVersion),
    toolVersion("rust"),
  ],
};

/** Which version key each stack reports. */
export const VERSION_KEYS: Readonly<Partial<Record<Ecosystem, keyof DeclaredVersions>>> = {
  node: "node",
  java: "java",
  python: "python",
  go: "go",
  ruby: "ruby",
  php: "php",
  rust: "rust",
};

/** The version in the tag of the Dockerfile's FROM line at `line` (`python:3.12-slim` → 3.12). */
export function dockerfileVersion(facts: FolderFacts, line: number): DeclaredVersion | undefined {
  const text = facts.read("Dockerfile");
  const value = text === undefined ? undefined : dockerImageVersion(text, line);
  return value === undefined ? undefined : { value, line, file: joinPath(facts.folder, "Dockerfile") };
}
