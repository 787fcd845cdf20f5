import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { functionCode, LAMBDA_HANDLER, LAMBDA_RUNTIME } from "./functionBundle";
import { logGroupPrefix } from "./physicalNames";
import { assumeRolePolicy, functionPolicy, type PolicyStatement } from "./policies";

export interface LambdaFunctionArgs {
  /** Builds the handler once per container (clients, caches); serialized by Pulumi with everything it references. */
  readonly callbackFactory: () => (event: never, context?: never) => Promise<unknown>;
  /**
   * What the function may call, on which resources: the role's only permissions besides writing its own log group.
   * Required: a function gets no managed policy.
   */
  readonly permissions: pulumi.Input<PolicyStatement[]>;
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
 * A Lambda function whose code is a Pulumi-serialized callback bundled into one CommonJS file (see functionBundle),
 * with its own log group and a role allowed exactly `permissions`: what `aws.lambda.CallbackFunction` would
 * otherwise fill with nine `*FullAccess` managed policies, every production dependency and `require()`s of ES
 * modules that Lambda's Node.js flags refuse.
 *
 * Physical names are Pulumi's auto-names (logical name plus a random suffix), so two stacks or forks in one account
 * never collide and a replacement is created before the old one is deleted.
 */
export class LambdaFunction extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
  public readonly role: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly arn: pulumi.Output<string>;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: LambdaFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:lambda:LambdaFunction", name, {}, opts);
    this.logGroup = new aws.cloudwatch.LogGroup(
      name,
      { namePrefix: logGroupPrefix("lambda", name), retentionInDays: args.logRetentionDays ?? 30 },
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
    this.function = new aws.lambda.Function(
      name,
      {
        description: args.description,
        code: functionCode(name, args.callbackFactory),
        handler: LAMBDA_HANDLER,
        runtime: LAMBDA_RUNTIME,
        role: this.role.arn,
        architectures: ["arm64"],
        memorySize: args.memorySize ?? 256,
        timeout: args.timeout ?? 30,
        environment: args.environment ? { variables: args.environment } : undefined,
        loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
      },
      // The role's permissions must exist before the function (and its event source mappings) use them.
      { parent: this, dependsOn: [rolePolicy, this.logGroup] },
    );
    this.arn = this.function.arn;
    this.name = this.function.name;
    this.registerOutputs({ arn: this.arn, name: this.name, roleArn: this.role.arn });
  }
}
