import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as packageJson from "../package.json";
import { assumeRolePolicy, functionPolicy, type PolicyStatement } from "./policies";

export interface LambdaFunctionArgs {
  /** Builds the handler once per container (clients, caches); serialized by Pulumi with everything it references. */
  readonly callbackFactory: () => (event: never) => Promise<unknown>;
  /**
   * What the function may call, on which resources: the role's only permissions besides writing its own log group.
   * Required: a function gets no managed policy.
   */
  readonly permissions: pulumi.Input<PolicyStatement[]>;
  /**
   * The npm packages the function loads that Lambda's Node.js runtime does not provide. Default none. The AWS SDK v3
   * (`@aws-sdk/*`) is provided by the runtime and left out, as is every other production dependency, so the
   * archive holds only the serialized code and these packages.
   */
  readonly packages?: readonly string[];
  /** Variables from `runtime/environment.ts`: names and ARNs, never secrets. */
  readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Default 256 MB. */
  readonly memorySize?: number;
  /** Seconds; default 30. */
  readonly timeout?: number;
  /** Days the function's log group keeps logs; default 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
  readonly description?: string;
}

/**
 * A CallbackFunction with its own log group and a role allowed exactly `policy`: the pieces `aws.lambda
 * .CallbackFunction` would otherwise fill with nine `*FullAccess` managed policies and every production dependency.
 */
export class LambdaFunction extends pulumi.ComponentResource {
  public readonly function: aws.lambda.CallbackFunction<never, unknown>;
  public readonly role: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly arn: pulumi.Output<string>;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: LambdaFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:lambda:LambdaFunction", name, {}, opts);
    const functionName = `${name}-${pulumi.getStack()}`;
    this.logGroup = new aws.cloudwatch.LogGroup(
      name,
      { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );
    this.role = new aws.iam.Role(
      name,
      { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")) },
      { parent: this },
    );
    const rolePolicy = new aws.iam.RolePolicy(
      name,
      {
        role: this.role.id,
        policy: pulumi
          .all([this.logGroup.arn, args.permissions])
          .apply(([logGroupArn, permissions]) => JSON.stringify(functionPolicy(logGroupArn, permissions))),
      },
      { parent: this },
    );
    this.function = new aws.lambda.CallbackFunction<never, unknown>(
      name,
      {
        name: functionName,
        description: args.description,
        callbackFactory: args.callbackFactory,
        role: this.role,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        memorySize: args.memorySize ?? 256,
        timeout: args.timeout ?? 30,
        environment: args.environment ? { variables: args.environment } : undefined,
        loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
        codePathOptions: archiveOptions(Object.keys(packageJson.dependencies), args.packages ?? []),
      },
      // The role's permissions must exist before the function (and its event source mappings) use them.
      { parent: this, dependsOn: [rolePolicy, this.logGroup] },
    );
    this.arn = this.function.arn;
    this.name = this.function.name;
    this.registerOutputs({ arn: this.arn, name: this.name, roleArn: this.role.arn });
  }
}

/**
 * What goes into a function's archive besides its serialized code: of the project's production dependencies, only
 * `packages` (and what they depend on). Everything else is excluded — the Pulumi SDKs are deploy-time only, and the
 * AWS SDK v3 ships with Lambda's Node.js runtime.
 */
export function archiveOptions(
  dependencies: readonly string[],
  packages: readonly string[],
): { extraExcludePackages: string[] } {
  const unknown = packages.filter((name) => !dependencies.includes(name));
  if (unknown.length > 0) {
    throw new Error(`packages [${unknown.join(", ")}] must be listed in package.json "dependencies" to be packed`);
  }
  return {
    extraExcludePackages: [...dependencies.filter((name) => !packages.includes(name)), ...TYPE_ONLY_PACKAGES],
  };
}

/**
 * Dependencies of packed packages that hold only TypeScript declarations: nothing loads them at run time, and
 * `@octokit/openapi-types` alone is 5 MB of the inspector's archive.
 */
export const TYPE_ONLY_PACKAGES = ["@octokit/openapi-types", "@octokit/types"];
