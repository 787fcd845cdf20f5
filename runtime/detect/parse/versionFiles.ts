/**
 * One-value version files (`.nvmrc`, `.python-version`, `runtime.txt`, `rust-toolchain`, …) and the multi-tool ones
 * (`.tool-versions`, `system.properties`, `.sdkmanrc`, `rust-toolchain.toml`). Each returns the version as declared,
 * or undefined when the file does not declare one in a form we know.
 */

/** First meaningful line, without a leading "v" or a "python-"/"ruby-" prefix: "v20.11.1" → "20.11.1". */
export function readPlainVersion(text: string): string | undefined {
  const line = text
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .find((l) => l !== "");
  if (line === undefined) return undefined;
  return line.replace(/^(?:python|ruby|node|go|java)-/i, "").replace(/^v(?=\d)/, "");
}

/** asdf/mise `.tool-versions`: "nodejs 20.1.0" → tool → version. */
export function readToolVersions(text: string): Map<string, { value: string; line: number }> {
  const tools = new Map<string, { value: string; line: number }>();
  text.split("\n").forEach((raw, index) => {
    const [tool, version] = raw.replace(/#.*$/, "").trim().split(/\s+/);
    if (tool && version) tools.set(tool, { value: version, line: index + 1 });
  });
  return tools;
}

/** `key=value` files (Java properties, `.sdkmanrc`): the value of `key`, with its line. */
export function readProperty(text: string, key: string): { value: string; line: number } | undefined {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^\s*([\w.-]+)\s*[=:]\s*(\S+)/.exec(lines[i] ?? "");
    if (match?.[1] === key && match[2] !== undefined) return { value: match[2], line: i + 1 };
  }
  return undefined;
}

/** `rust-toolchain.toml` channel, or a legacy plain `rust-toolchain` file's single line. */
export function readRustToolchain(text: string): string | undefined {
  const channel = /channel\s*=\s*["']([^"']+)["']/.exec(text)?.[1];
  if (channel !== undefined) return channel;
  return text.includes("=") ? undefined : readPlainVersion(text);
}
