// The local Lambda containers produce it; the mappings consume it.
import type { InvokeResult } from "../lambda/invokeResult";
export type { InvokeResult };

/**
 * Invokes the mapped function once with `event`. Resolves with the function's outcome, errors included; a rejection
 * means the function could not be invoked at all (Lambda's own failure, not the function's), which a mapping retries
 * without counting it against the batch, as Lambda does for throttles and service errors.
 */
export type Invoke = (event: unknown) => Promise<InvokeResult>;
