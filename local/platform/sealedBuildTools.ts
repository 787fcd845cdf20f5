import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What a local build (`npm start -- --run-builds`) runs as `aws` and `docker`: Slipway's stand-ins
 * (`local/platform/sealedTools/*.sh`), first on the build's PATH, so a build never reaches an AWS account or a remote
 * registry whatever this machine has installed. Images are built by this machine's Docker engine, when there is
 * one, and pushed to a folder standing in for ECR.
 */
export interface SealedBuildTools {
  /** The folder holding `aws` and `docker`, first on every build's PATH. */
  readonly binDir: string;
  /** The local registry: `<repository>/<tag>` files holding the pushed image's digest. */
  readonly registryDir: string;
  /** The Docker CLI the stand-in builds with, or undefined when this machine has none. */
  readonly docker?: string;
  /** Whether that Docker's engine answered when the tools were prepared. */
  readonly engineRunning: boolean;
  /** The variables a build needs for the stand-ins, for an image repository with this tag mutability. */
  environment(repository: {
    readonly registryHost: string;
    readonly imageTagMutability: string;
  }): Record<string, string>;
}

const TOOLS_DIR = path.join(__dirname, "sealedTools");

/** The first `docker` on PATH that is not Slipway's own stand-in. */
export function findDocker(searchPath: string, exclude: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir || path.resolve(dir) === path.resolve(exclude)) continue;
    const candidate = path.join(dir, "docker");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function engineAnswers(docker: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(docker, ["info", "--format", "{{.ServerVersion}}"], { timeout: 10_000 }, (error) => resolve(!error));
  });
}

/**
 * Installs the stand-ins under `<stateDir>/build-tools/` and finds this machine's Docker (`SLIPWAY_DOCKER`, else
 * the first `docker` on PATH). The registry lives in the state folder, so pushed tags stay pushed across restarts,
 * as in ECR.
 */
export async function prepareSealedBuildTools(options: {
  readonly stateDir: string;
  /** Default: `$SLIPWAY_DOCKER`, else the first `docker` on `$PATH`. */
  readonly docker?: string | null;
}): Promise<SealedBuildTools> {
  const root = path.join(options.stateDir, "build-tools");
  const binDir = path.join(root, "bin");
  const registryDir = path.join(options.stateDir, "registry");
  fs.mkdirSync(binDir, { recursive: true });
  fs.mkdirSync(registryDir, { recursive: true });
  for (const tool of ["aws", "docker"]) {
    fs.copyFileSync(path.join(TOOLS_DIR, `${tool}.sh`), path.join(binDir, tool));
    fs.chmodSync(path.join(binDir, tool), 0o755);
  }
  const docker =
    options.docker === null
      ? undefined
      : (options.docker ?? process.env.SLIPWAY_DOCKER ?? findDocker(process.env.PATH ?? "", binDir));
  const engineRunning = docker ? await engineAnswers(docker) : false;

  // The build's own Docker configuration: no credentials or credential helpers of this machine. CLI plugins
  // (buildx, which BuildKit's named build contexts need) are programs, not credentials: they are kept.
  const dockerConfig = path.join(root, "docker-config");
  fs.mkdirSync(dockerConfig, { recursive: true });
  const plugins = path.join(process.env.HOME ?? "", ".docker", "cli-plugins");
  const linkedPlugins = path.join(dockerConfig, "cli-plugins");
  if (fs.existsSync(plugins) && !fs.existsSync(linkedPlugins)) fs.symlinkSync(plugins, linkedPlugins);

  const registryPassword = randomBytes(24).toString("base64url");
  const publicRegistryPassword = randomBytes(24).toString("base64url");
  return {
    binDir,
    registryDir,
    ...(docker ? { docker } : {}),
    engineRunning,
    environment: (repository) => ({
      SLIPWAY_REGISTRY_HOST: repository.registryHost,
      SLIPWAY_TAG_MUTABILITY: repository.imageTagMutability,
      SLIPWAY_REGISTRY_DIR: registryDir,
      SLIPWAY_REGISTRY_PASSWORD: registryPassword,
      SLIPWAY_PUBLIC_REGISTRY_PASSWORD: publicRegistryPassword,
      SLIPWAY_DOCKER: docker ?? "",
      DOCKER_CONFIG: dockerConfig,
      // Where this machine's engine listens is no credential; a build needs it to reach a non-default engine.
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    }),
  };
}

/** The banner's line about builds: what runs them, and what is missing. */
export function describeSealedBuildTools(tools: SealedBuildTools, stateDir: string): string {
  const registry = path.relative(process.cwd(), tools.registryDir) || tools.registryDir;
  const sealed = `sealed: aws and docker are Slipway's local stand-ins (no AWS account), images go to ${registry || stateDir}/`;
  if (!tools.docker) {
    return `${sealed}; Docker is MISSING: builds will fail at "docker build" until Docker is installed (https://docs.docker.com/engine/install/)`;
  }
  if (!tools.engineRunning) {
    return `${sealed}; Docker (${tools.docker}) is installed but its engine does not answer: builds will fail at "docker build" until it runs`;
  }
  return `${sealed}; images built by ${tools.docker}`;
}
