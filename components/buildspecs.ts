import * as fs from "node:fs";
import * as path from "node:path";
import type { Builder } from "../runtime/builders";

/**
 * What each CodeBuild project runs: a buildspec that turns the staged commit into one container image, and the
 * Dockerfile each builder uses when the app has none. The shell and the Dockerfiles are files under
 * `components/buildspecs/` (shellcheck reads them; CI runs it), read here when the program runs and assembled into
 * each project's inline buildspec:
 *
 * - `buildspec/*.sh` (bash): the phases' commands, run by CodeBuild;
 * - `dockerfiles/<builder>.Dockerfile`: the generated Dockerfiles;
 * - `image/*.sh` (POSIX sh, the base images' /bin/sh): the Dockerfiles' RUN steps and the images' start command,
 *   handed to the image build as the named build context `slipway`.
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

/** Where the buildspecs' shell and Dockerfiles live. */
export const BUILDSPEC_FILES_DIR = path.join(__dirname, "buildspecs");

function readAsset(relative: string): string {
  return fs.readFileSync(path.join(BUILDSPEC_FILES_DIR, relative), "utf8");
}

const readPhaseScript = (name: string) => readAsset(path.join("buildspec", name));

/** The buildspec scripts, phase by phase; `enter-source.sh` runs again in build (each phase may be its own shell). */
const PHASE_SCRIPTS = {
  pre_build: ["check-variables.sh", "registry-login.sh", "enter-source.sh"],
  build: ["enter-source.sh", "build-image.sh"],
  post_build: ["push-image.sh"],
} as const;

/** Ends each file the build command writes out; a line equal to it inside a file would cut that file short. */
const FILE_DELIMITER = "SLIPWAY_FILE";

/**
 * The build command's first lines: the generated Dockerfile and the scripts it uses, written to a fresh folder
 * outside the build context (`SLIPWAY_GENERATED_DIR`, which build-image.sh reads). Quoted here-documents, so the
 * files' text reaches the disk as it is in the repository. The docker builder writes nothing.
 */
function writeGeneratedFiles(builder: Builder): string {
  if (builder === "docker") return 'SLIPWAY_GENERATED_DIR=""';
  const files: [string, string][] = [
    ["Dockerfile", dockerfileFor(builder)],
    ...Object.entries(imageScriptsFor(builder)).map(([name, text]): [string, string] => [`scripts/${name}`, text]),
  ];
  const lines = ['SLIPWAY_GENERATED_DIR="$(mktemp -d)"', 'mkdir "$SLIPWAY_GENERATED_DIR/scripts"'];
  for (const [name, text] of files) {
    if (text.split("\n").includes(FILE_DELIMITER)) {
      throw new Error(
        `${name} of the ${builder} builder contains the line ${FILE_DELIMITER}, which ends its here-document`,
      );
    }
    lines.push(`cat >"$SLIPWAY_GENERATED_DIR/${name}" <<'${FILE_DELIMITER}'`, text.trimEnd(), FILE_DELIMITER);
  }
  return lines.join("\n");
}

/**
 * The buildspec (version 0.2, JSON, which CodeBuild reads as YAML) of a builder's CodeBuild project: check the
 * build's variables, log in to ECR Public and the image repository, enter the app's folder, build its image with the
 * app's own Dockerfile or the builder's, push it tagged with the deployment id.
 */
export function buildspecFor(builder: Builder): string {
  const [enterSource, buildImage] = PHASE_SCRIPTS.build.map(readPhaseScript);
  const buildspec = {
    version: 0.2,
    env: { shell: "bash" },
    phases: {
      pre_build: { commands: PHASE_SCRIPTS.pre_build.map(readPhaseScript) },
      build: { commands: [[enterSource, writeGeneratedFiles(builder), buildImage].join("\n")] },
      post_build: { commands: PHASE_SCRIPTS.post_build.map(readPhaseScript) },
    },
  };
  return JSON.stringify(buildspec, null, 2);
}

/**
 * The multi-stage Dockerfile a builder uses for an app without its own. Build arguments RUNTIME_VERSION,
 * BUILD_COMMAND, START_COMMAND and PACKAGE_MANAGER refine it; without them it follows the app's files.
 */
export function dockerfileFor(builder: GeneratedBuilder): string {
  return readAsset(path.join("dockerfiles", `${builder}.Dockerfile`));
}

/** `/slipway/<name>.sh` in a Dockerfile, `COPY --from=slipway … <name>.sh`, `. "$(dirname "$0")/<name>.sh"` in a script. */
const SCRIPT_REFERENCES = [
  /\/slipway\/([\w-]+\.sh)/g,
  /--from=slipway\b[^\n]*?\s([\w-]+\.sh)\s/g,
  /\$\(dirname "\$0"\)\/([\w-]+\.sh)/g,
];

/** The image scripts a builder's Dockerfile uses, with the scripts they source: file name → text. */
export function imageScriptsFor(builder: GeneratedBuilder): Record<string, string> {
  const scripts: Record<string, string> = {};
  const visit = (text: string) => {
    for (const pattern of SCRIPT_REFERENCES) {
      for (const [, name] of text.matchAll(pattern)) {
        if (name === undefined || name in scripts) continue;
        scripts[name] = readAsset(path.join("image", name));
        visit(scripts[name]);
      }
    }
  };
  visit(dockerfileFor(builder));
  return Object.fromEntries(Object.entries(scripts).sort(([a], [b]) => a.localeCompare(b)));
}
