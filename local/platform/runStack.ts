import * as pulumi from "@pulumi/pulumi";

export interface RunStackOptions {
  /** Stack configuration, as `Pulumi.<stack>.yaml` would hold it (values as strings; lists as JSON). */
  readonly config: Record<string, string>;
  /** Config keys that are secrets (Pulumi marks their values secret). */
  readonly secretKeys?: string[];
  /** Called for every resource the program registers; answers with its id and state. */
  readonly newResource: (
    args: pulumi.runtime.MockResourceArgs,
  ) => Promise<pulumi.runtime.MockResourceResult> | pulumi.runtime.MockResourceResult;
  /** Loads the program (e.g. `() => require("../../index")`); its exports are the stack outputs. */
  readonly program: () => Record<string, unknown>;
  readonly stackName?: string;
}

/**
 * Runs the Pulumi program under the mock monitor, as `pulumi up` would run it against the engine, and resolves once
 * every resource has been registered, with the stack's outputs. A process can run a program once.
 */
export async function runStack(options: RunStackOptions): Promise<Record<string, unknown>> {
  pulumi.runtime.setAllConfig(options.config, options.secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: options.newResource,
      call(args) {
        throw new Error(`the stack made a provider call the local platform does not answer: ${args.token}`);
      },
    },
    "slipway",
    options.stackName ?? "local",
    false,
  );
  const program = options.program();
  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(program)) {
    outputs[name] = await new Promise((resolve) => (pulumi.output(output) as pulumi.Output<unknown>).apply(resolve));
  }
  await pulumi.runtime.disconnect(); // waits until every registration has been answered
  return outputs;
}
