/**
 * Claims as API Gateway hands them to the integration: every value a string. Numbers and booleans print as
 * themselves, arrays as `[a b c]` (Go's formatting, which is what API Gateway shows), objects as JSON.
 */
export function claimStrings(claims: Readonly<Record<string, unknown>>): Record<string, string> {
  const text = (value: unknown): string =>
    typeof value === "string"
      ? value
      : Array.isArray(value)
        ? `[${value.map(text).join(" ")}]`
        : value !== null && typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
  return Object.fromEntries(Object.entries(claims).map(([name, value]) => [name, text(value)]));
}
