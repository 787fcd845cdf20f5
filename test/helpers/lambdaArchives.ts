import type { RecordedResource } from "./pulumiMocks";
import { readFunctionArchive, type FunctionArchive } from "../../local/platform/functionArchive";

export type { FunctionArchive } from "../../local/platform/functionArchive";
export { unpackArchive } from "../../local/platform/functionArchive";
export { lambdaRuntimeModules } from "../../local/platform/lambda/lambdaRuntimeModules";

/**
 * The archive a recorded `aws:lambda/function:Function` declares (its `code` input), as this process's program
 * serialized it. What is deployed is the same program compiled by Pulumi's ts-node: see `ensureFunctionArchives`.
 */
export function functionArchive(resource: RecordedResource): Promise<FunctionArchive> {
  return readFunctionArchive(resource.name, resource.inputs.code);
}
