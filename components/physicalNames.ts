import * as pulumi from "@pulumi/pulumi";

/**
 * A log group name prefix that says whose logs these are (`/<project>/<stack>/<kind>/<logical name>-`); AWS adds a
 * unique suffix, so stacks of the same name in one account (a fork, a second project) never share a group and a
 * replacement group is created before the old one goes. Every other physical name in the stack is Pulumi's
 * auto-name (logical name plus a random suffix) for the same reasons.
 */
export function logGroupPrefix(kind: "lambda" | "codebuild" | "apigateway", logicalName: string): string {
  return `/${pulumi.getProject()}/${pulumi.getStack()}/${kind}/${logicalName}-`;
}
