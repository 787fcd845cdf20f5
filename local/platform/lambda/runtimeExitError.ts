/** How Lambda names the signals that end a runtime (Go's wording: its runtime API is written in Go). */
const SIGNAL_WORDS: Readonly<Record<string, string>> = {
  SIGKILL: "killed",
  SIGTERM: "terminated",
  SIGABRT: "aborted",
  SIGSEGV: "segmentation fault",
  SIGINT: "interrupt",
  SIGBUS: "bus error",
};

/**
 * Lambda's report of a runtime process that ended mid-invocation: `Runtime.ExitError`, or `Runtime.OutOfMemory` when
 * the process died of a full heap, with "Runtime exited with error: exit status 1" / "signal: killed".
 */
export function runtimeExitError(
  exit: { readonly code: number | null; readonly signal: string | null; readonly detail?: string },
  outOfMemory = false,
): { errorType: string; errorMessage: string } {
  const errorType = outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError";
  if (exit.code === 0) return { errorType, errorMessage: "Runtime exited without providing a reason" };
  const how =
    exit.code !== null
      ? `exit status ${exit.code}`
      : exit.signal !== null
        ? `signal: ${SIGNAL_WORDS[exit.signal] ?? exit.signal}`
        : (exit.detail ?? "unknown");
  return { errorType, errorMessage: `Runtime exited with error: ${how}` };
}
