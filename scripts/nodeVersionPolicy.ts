/**
 * The project's Node.js policy (README, "Running it on this machine"): the functions run on Lambda's nodejs22.x; the
 * commands run on Node.js 22, or 20.19+ with the pinned AWS SDK. The SDK's own notice that its later releases will
 * need Node.js 22 is said once, in the README, rather than nine lines on every command.
 */
export function applyNodeVersionPolicy(env: NodeJS.ProcessEnv = process.env): void {
  // Read by @aws-sdk/core's emitWarningIfUnsupportedVersion.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
