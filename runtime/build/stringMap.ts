/**
 * A JSON object of strings from an environment variable the stack sets (`BUILD_PROJECTS`: builder → project,
 * `BUILD_LOG_GROUPS`: project → log group). Anything else is a stack mistake, reported by the variable's name.
 */
export function parseStringMap(variable: string, json: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((value) => typeof value === "string")
  ) {
    throw new Error(`${variable} must be a JSON object of strings; the stack sets it`);
  }
  return parsed as Record<string, string>;
}
