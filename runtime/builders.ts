/**
 * The builders Slipway runs: one CodeBuild project each. Detection picks one; the BuildProjects component creates a
 * project per entry.
 */
export const BUILDERS = ["docker", "maven", "gradle", "node", "python", "go", "rust", "ruby", "php", "static"] as const;
export type Builder = (typeof BUILDERS)[number];

export function isBuilder(value: unknown): value is Builder {
  return typeof value === "string" && (BUILDERS as readonly string[]).includes(value);
}
