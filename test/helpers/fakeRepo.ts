import type { GitHubRepoReader } from "../../runtime/detect/fileSystem";

/** A repository as tests write it: path → content, `null` for a file whose content does not matter. */
export type FakeTree = Record<string, string | null>;

/** A package.json text with the given fields (dependencies as name → version). */
export function packageJson(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: "app", version: "1.0.0", ...fields }, null, 2);
}

/** A package.json whose dependencies are the given names (all at "^1.0.0"), plus any other fields. */
export function withDependencies(names: readonly string[], fields: Record<string, unknown> = {}): string {
  return packageJson({ dependencies: Object.fromEntries(names.map((name) => [name, "^1.0.0"])), ...fields });
}

/** A pom.xml declaring the given "group:artifact" dependencies, with an optional parent and extra XML. */
export function pomXml(
  options: { parent?: string; dependencies?: readonly string[]; plugins?: readonly string[]; extra?: string } = {},
): string {
  const coordinates = (value: string) => {
    const [groupId, artifactId] = value.split(":");
    return `<groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId>`;
  };
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<project>`,
    options.parent === undefined ? "" : `  <parent>${coordinates(options.parent)}<version>3.2.0</version></parent>`,
    `  <groupId>com.example</groupId><artifactId>demo</artifactId>`,
    options.extra ?? "",
    `  <dependencies>`,
    ...(options.dependencies ?? []).map((d) => `    <dependency>${coordinates(d)}</dependency>`),
    `  </dependencies>`,
    `  <build><plugins>`,
    ...(options.plugins ?? []).map((p) => `    <plugin>${coordinates(p)}</plugin>`),
    `  </plugins></build>`,
    `</project>`,
  ].join("\n");
}

/**
 * A GitHub reader over an in-memory tree that records every call, so tests can count requests and check that no
 * path is fetched twice. Binary files are modelled as `null` contents: listed, never returned.
 */
export function fakeGitHubReader(files: FakeTree, options: { truncated?: boolean } = {}) {
  const calls: { kind: "tree" | "blobs"; paths: readonly string[] }[] = [];
  const reader: GitHubRepoReader = {
    async getTree() {
      calls.push({ kind: "tree", paths: [] });
      return { paths: Object.keys(files), truncated: options.truncated ?? false };
    },
    async readBlobs(paths) {
      calls.push({ kind: "blobs", paths: [...paths] });
      const found = new Map<string, string>();
      for (const path of paths) {
        const content = files[path];
        if (typeof content === "string") found.set(path, content);
      }
      return found;
    },
  };
  return { reader, calls };
}
