import * as pulumi from "@pulumi/pulumi";

/** One `newResource` call the program made under mocks. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly id: string;
}

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";

/** The attributes AWS would compute for a resource, so outputs such as ARNs and URLs resolve as they would. */
export function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  // Pulumi's auto-name (or the resource's namePrefix) plus a suffix; a fixed name when the resource asks for one.
  const physical = inputs.name ?? (inputs.namePrefix ? `${inputs.namePrefix}1a2b3c` : `${name}-1a2b3c`);
  switch (type) {
    case "aws:dynamodb/table:Table":
      return {
        name: physical,
        arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${physical}`,
        streamArn: inputs.streamEnabled
          ? `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${physical}/stream/2026-11-26T00:00:00.000`
          : undefined,
      };
    case "aws:lambda/function:Function":
      return { name: physical, arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physical}` };
    case "aws:iam/role:Role":
      return { name: physical, arn: `arn:aws:iam::${ACCOUNT}:role/${physical}` };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { name: physical, arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${physical}` };
    case "aws:sqs/queue:Queue":
      return {
        name: physical,
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${physical}`,
        url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`,
      };
    case "aws:cloudfront/distribution:Distribution":
      return {
        domainName: "d1a2b3c4example.cloudfront.net",
        arn: `arn:aws:cloudfront::${ACCOUNT}:distribution/E1A2B3C4EXAMPLE`,
      };
    case "aws:s3/bucket:Bucket":
      return { bucket: physical, arn: `arn:aws:s3:::${physical}` };
    case "aws:ecr/repository:Repository":
      return {
        name: physical,
        arn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${physical}`,
        repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${physical}`,
      };
    case "aws:cloudwatch/eventRule:EventRule":
      return { name: physical, arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${physical}` };
    case "aws:codebuild/project:Project":
      return { name: physical, arn: `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${physical}` };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${physical}-AbCdEf` };
    case "aws:apigatewayv2/api:Api":
      return {
        apiEndpoint: `https://abc123.execute-api.${REGION}.amazonaws.com`,
        executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:abc123`,
      };
    case "aws:apigatewayv2/stage:Stage":
      return { invokeUrl: `https://abc123.execute-api.${REGION}.amazonaws.com/` };
    default:
      return {};
  }
}

export function findResources(resources: readonly RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}

export function findResource(resources: readonly RecordedResource[], type: string, name: string): RecordedResource {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = findResources(resources, type).map((r) => r.name);
    throw new Error(`no ${type} named ${name}; there are: ${names.join(", ") || "none"}`);
  }
  return found;
}

/** The value inside an Output (or a plain value), awaited. */
export function unwrap<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as pulumi.Unwrap<T>)));
}
