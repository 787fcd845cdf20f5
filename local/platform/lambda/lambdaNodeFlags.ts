/**
 * The Node.js flags Lambda applies when it starts a function's runtime. Source: AWS Lambda Developer Guide,
 * "Building Lambda functions with Node.js", the table of experimental features Lambda disables: Lambda turns off
 * upstream Node.js experiments for stability, and a function may re-enable one by putting its re-enable flag in
 * NODE_OPTIONS, in which case "Lambda detects this override and removes the corresponding disable flag".
 */
export interface DisabledExperiment {
  readonly feature: string;
  readonly runtimes: readonly LambdaNodeRuntime[];
  readonly disableFlag: string;
  readonly reEnableFlag: string;
}

export type LambdaNodeRuntime = "nodejs20.x" | "nodejs22.x" | "nodejs24.x";

export const LAMBDA_DISABLED_EXPERIMENTS: readonly DisabledExperiment[] = [
  {
    feature: "Support for importing modules using require in ES modules",
    runtimes: ["nodejs20.x", "nodejs22.x"],
    disableFlag: "--no-experimental-require-module",
    reEnableFlag: "--experimental-require-module",
  },
  {
    feature: "Support for automatically detecting ES vs CommonJS modules",
    runtimes: ["nodejs22.x"],
    disableFlag: "--no-experimental-detect-module",
    reEnableFlag: "--experimental-detect-module",
  },
];

/**
 * The flags Lambda puts on the `node` command line for `runtime`, less those the function re-enabled in its
 * NODE_OPTIONS. NODE_OPTIONS itself reaches Node through the environment, as in Lambda.
 */
export function lambdaNodeFlags(runtime: string, nodeOptions = ""): string[] {
  const given = nodeOptions.split(/\s+/).filter(Boolean);
  return LAMBDA_DISABLED_EXPERIMENTS.filter(
    (experiment) =>
      (experiment.runtimes as readonly string[]).includes(runtime) && !given.includes(experiment.reEnableFlag),
  ).map((experiment) => experiment.disableFlag);
}

/** Lambda's Node.js runtimes this platform can imitate; anything else is a mistake in the stack. */
export function isLambdaNodeRuntime(runtime: string): runtime is LambdaNodeRuntime {
  return runtime === "nodejs20.x" || runtime === "nodejs22.x" || runtime === "nodejs24.x";
}
