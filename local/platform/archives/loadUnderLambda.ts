import { ENV } from "../../../runtime/environment";
import { startFunction, type InvokeResult } from "../lambda/startFunction";

export interface LoadUnderLambdaOptions {
  readonly name: string;
  /** The unpacked archive. */
  readonly codeDir: string;
  readonly handler: string;
  readonly runtime: string;
  readonly memorySizeMb: number;
  /** The function's variables as the stack sets them. */
  readonly environment: Readonly<Record<string, string>>;
  /** What Lambda's runtime provides beside the archive (the AWS SDK), on NODE_PATH. */
  readonly runtimeModulesDir?: string;
  /** The event; default `{}`. */
  readonly event?: unknown;
}

export interface LoadOutcome {
  /** The handler module loaded and its factory ran (Lambda's init phase). */
  readonly loaded: boolean;
  readonly coldStartMs?: number;
  readonly result: InvokeResult;
}

/**
 * One cold invocation of an archive the way Lambda would make it: its own container, Lambda's Node.js flags for the
 * runtime, only the runtime's modules beside the archive, the function's own variables and nothing of this
 * process's environment. AWS endpoints point at a closed port, so a handler that calls AWS fails fast instead of
 * reaching a real account.
 */
export async function loadUnderLambda(options: LoadUnderLambdaOptions): Promise<LoadOutcome> {
  const closed = "http://127.0.0.1:9";
  const fn = await startFunction({
    name: options.name,
    codeDir: options.codeDir,
    handler: options.handler,
    runtime: options.runtime,
    memorySizeMb: options.memorySizeMb,
    timeoutSeconds: 30,
    maxConcurrency: 1,
    ...(options.runtimeModulesDir ? { runtimeModulesDir: options.runtimeModulesDir } : {}),
    environment: {
      ...options.environment,
      [ENV.dynamodbEndpoint]: closed,
      [ENV.secretsManagerEndpoint]: closed,
      [ENV.codebuildEndpoint]: closed,
      [ENV.s3Endpoint]: closed,
      AWS_ACCESS_KEY_ID: "AKIDPREFLIGHT",
      AWS_SECRET_ACCESS_KEY: "not-a-secret",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    onLog: () => undefined,
  });
  try {
    const result = await fn.invoke(options.event ?? {});
    const [coldStartMs] = fn.coldStarts();
    // A container reports a cold start only once its handler module loaded and the factory ran.
    return { loaded: coldStartMs !== undefined, ...(coldStartMs !== undefined ? { coldStartMs } : {}), result };
  } finally {
    await fn.stop();
  }
}
