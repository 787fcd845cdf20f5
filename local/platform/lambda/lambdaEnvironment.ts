import * as path from "node:path";

export interface LambdaEnvironmentOptions {
  readonly functionName: string;
  readonly memorySizeMb: number;
  readonly region: string;
  /** The unpacked archive (Lambda's /var/task). */
  readonly codeDir: string;
  /** What the runtime provides besides the archive (the AWS SDK); searched before the archive, as in Lambda. */
  readonly runtimeModulesDir?: string;
  /** The function's own variables (names, ARNs, endpoints, and the credentials its role would get). */
  readonly environment: Readonly<Record<string, string>>;
  /** `PATH` for the container: the host's, so tools the handler spawns resolve as they would on this machine. */
  readonly path: string;
}

/**
 * The variables Lambda itself sets in every container, by name. A function may not set these (AWS rejects them as
 * reserved keys), so a clash is a mistake in the caller, not something to resolve silently.
 */
const LAMBDA_SET: Readonly<Record<string, (options: LambdaEnvironmentOptions) => string>> = {
  AWS_LAMBDA_FUNCTION_NAME: (o) => o.functionName,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: (o) => String(o.memorySizeMb),
  AWS_REGION: (o) => o.region,
  AWS_DEFAULT_REGION: (o) => o.region,
  LAMBDA_TASK_ROOT: (o) => o.codeDir,
  NODE_PATH: (o) => [o.runtimeModulesDir, o.codeDir].filter((dir) => dir !== undefined).join(path.delimiter),
  TZ: () => ":UTC",
  PATH: (o) => o.path,
};

/**
 * A container's whole environment: the function's variables plus what Lambda sets, and nothing inherited from the
 * process that starts it (its credentials, NODE_OPTIONS, tsx hooks would all change what the handler sees).
 */
export function lambdaEnvironment(options: LambdaEnvironmentOptions): Record<string, string> {
  const reserved = Object.keys(options.environment).filter((name) => name in LAMBDA_SET);
  if (reserved.length > 0) {
    throw new Error(
      `environment of ${options.functionName} sets ${reserved.join(", ")}, which Lambda sets itself: ` +
        "drop them (the region comes from the `region` option)",
    );
  }
  const env: Record<string, string> = { ...options.environment };
  for (const [name, value] of Object.entries(LAMBDA_SET)) env[name] = value(options);
  return env;
}
