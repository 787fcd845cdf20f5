import type { Authorize } from "../../emulators/aws";
import type { Logger } from "../../../runtime/log";
import type { PrincipalRegistry } from "./principals";

/**
 * The registry's decision in the shape of the AWS emulator's `authorize` hook (`startAws({ authorize })`). The
 * emulator writes its own denial text, which names the access key rather than the role, so the registry's
 * AWS-worded message (with the assumed role) goes to `logger` for whoever has to fix the policy.
 */
export function emulatorAuthorize(registry: Pick<PrincipalRegistry, "authorize">, logger?: Logger): Authorize {
  return async (accessKeyId, action, resourceArn) => {
    const decision = await registry.authorize(accessKeyId, action, resourceArn);
    if (!decision.allowed)
      logger?.warn("access denied", { accessKeyId, action, resource: resourceArn, reason: decision.message });
    return decision.allowed;
  };
}
