/**
 * File and folder names detection cares about, as tables. `MANIFESTS` are read for every folder considered as an
 * app; `VERSION_FILES` are read in that folder and in each folder above it (a monorepo often pins Node once, at its
 * root); `EXCLUDED_FOLDERS` never hold an app.
 */
export const MANIFESTS: readonly string[] = [
  "package.json",
  "pom.xml",
  "build.gradle",
  "build.gradle.kts",
  "settings.gradle",
  "settings.gradle.kts",
  "gradle/libs.versions.toml",
  "go.mod",
  "Cargo.toml",
  "Gemfile",
  "composer.json",
  "pyproject.toml",
  "Pipfile",
  "Dockerfile",
  "pnpm-workspace.yaml",
  "lerna.json",
  "system.properties",
  ".sdkmanrc",
  "runtime.txt",
  "Procfile",
];

/** Globs (relative to the folder) for manifests that come in families. */
export const MANIFEST_GLOBS: readonly string[] = ["requirements*.txt", "requirements/*.txt"];

export const VERSION_FILES: readonly string[] = [
  ".nvmrc",
  ".node-version",
  ".python-version",
  ".ruby-version",
  ".java-version",
  ".tool-versions",
  "rust-toolchain",
  "rust-toolchain.toml",
];

/** Files whose presence alone makes a folder worth a look when searching a repository for its app. */
export const APP_MARKERS: readonly string[] = [
  "package.json",
  "pom.xml",
  "build.gradle",
  "build.gradle.kts",
  "go.mod",
  "Cargo.toml",
  "Gemfile",
  "composer.json",
  "pyproject.toml",
  "Pipfile",
  "setup.py",
  "manage.py",
  "requirements.txt",
  "Dockerfile",
  "index.html",
  "index.php",
  "artisan",
  "angular.json",
  "config.ru",
];

/** Lockfiles → Node package manager, in the order they are believed when several exist. */
export const NODE_LOCKFILES: readonly (readonly [string, "pnpm" | "yarn" | "bun" | "npm"])[] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["bun.lock", "bun"],
  ["bun.lockb", "bun"],
  ["yarn.lock", "yarn"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];

/** Files at a repository root that make it a JavaScript workspace even without a `workspaces` list. */
export const WORKSPACE_MARKERS: readonly string[] = [
  "pnpm-workspace.yaml",
  "lerna.json",
  "nx.json",
  "turbo.json",
  "turbo.jsonc",
];

/**
 * Vendored code, build output and tooling folders: never an app of the repository. (An array, not a Set: Pulumi's
 * closure serializer would hand Lambda an empty Set.)
 */
export const EXCLUDED_FOLDERS: readonly string[] = [
  "node_modules",
  "bower_components",
  "jspm_packages",
  "vendor",
  "third_party",
  "third-party",
  "target",
  "dist",
  "build",
  "out",
  "coverage",
  "__pycache__",
  "venv",
];

/**
 * Folders that hold tests, fixtures and examples rather than the app. Outside a workspace's own globs they are
 * not searched; inside them, only tests and fixtures are skipped (a workspace that lists its examples means them).
 */
export const TEST_FOLDER =
  /^(?:tests?|__tests__|spec|specs|e2e|.+-e2e|fixtures?|__fixtures__|testdata|test-fixtures)$/i;
export const EXAMPLE_FOLDER = /^(?:examples?|samples?|demos?|templates?|playground|starters?|boilerplates?)$/i;

/** Whether a folder path passes through a folder that never holds the repository's own app. */
export function isExcludedFolder(folder: string, options: { allowExamples: boolean }): boolean {
  if (folder === "") return false;
  return folder
    .split("/")
    .some(
      (part) =>
        part.startsWith(".") ||
        EXCLUDED_FOLDERS.includes(part) ||
        TEST_FOLDER.test(part) ||
        (!options.allowExamples && EXAMPLE_FOLDER.test(part)),
    );
}
