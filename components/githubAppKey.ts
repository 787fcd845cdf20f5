import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface GitHubAppKeyArgs {
  /** The App's PEM private key as a Pulumi secret; stored in a new Secrets Manager secret. */
  readonly privateKey?: pulumi.Input<string>;
  /** Or an existing secret holding it (created and rotated outside this stack). One of the two is required. */
  readonly existingSecretArn?: pulumi.Input<string>;
}

/**
 * Where the GitHub App's private key lives: Secrets Manager, read by the inspector at run time. Only the secret's
 * ARN leaves this component; the key never reaches an output, an environment variable or a closure.
 */
export class GitHubAppKey extends pulumi.ComponentResource {
  public readonly secretArn: pulumi.Output<string>;

  constructor(name: string, args: GitHubAppKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:github:GitHubAppKey", name, {}, opts);
    if ((args.privateKey === undefined) === (args.existingSecretArn === undefined)) {
      throw new Error("Only one of [privateKey] or [existingSecretArn] may be set, and one is required");
    }
    if (args.existingSecretArn !== undefined) {
      this.secretArn = pulumi.output(args.existingSecretArn);
    } else {
      const secret = new aws.secretsmanager.Secret(
        name,
        { description: "Slipway GitHub App private key (PEM)", recoveryWindowInDays: 7 },
        { parent: this },
      );
      new aws.secretsmanager.SecretVersion(
        name,
        { secretId: secret.id, secretString: pulumi.secret(args.privateKey!) },
        { parent: this },
      );
      this.secretArn = secret.arn;
    }
    this.registerOutputs({ secretArn: this.secretArn });
  }
}
