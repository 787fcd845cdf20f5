/**
 * What one invocation of a local function came to, as Lambda's Invoke API reports it: the handler's JSON result, or
 * a function error with Lambda's `errorType`/`errorMessage` (a thrown error keeps its name; the runtime's own
 * failures use Lambda's `Sandbox.Timedout` and `Runtime.*` types).
 */
export type InvokeResult =
  | { readonly ok: true; readonly result: unknown; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      /** The function ran past its timeout; its container was killed. */
      readonly timedOut?: true;
      /** The container's process exited or was killed mid-invocation; it was replaced. */
      readonly crashed?: true;
      readonly durationMs: number;
    };
