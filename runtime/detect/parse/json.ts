import { blankComments } from "./text";

/**
 * JSON as people write it in config files: comments and trailing commas are tolerated (tsconfig-style), a BOM is
 * ignored. Returns undefined for anything that still is not JSON, so a broken manifest reads as "no signal".
 */
export function parseJsonLoose(text: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  try {
    return JSON.parse(body);
  } catch {
    const cleaned = blankComments(body, { line: ["//"], block: [["/*", "*/"]], quotes: '"' }).replace(
      /,(\s*[}\]])/g,
      "$1",
    );
    try {
      return JSON.parse(cleaned);
    } catch {
      return undefined;
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [key, v] of Object.entries(value)) if (typeof v === "string") out[key] = v;
  return out;
}

export function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : undefined;
}
