/** The images a Dockerfile builds FROM, last stage first (the runtime stage names the stack best). */
export function dockerBaseImages(text: string): { image: string; line: number }[] {
  const images: { image: string; line: number }[] = [];
  text.split("\n").forEach((raw, index) => {
    const match = /^\s*FROM\s+(?:--\S+\s+)*(\S+)/i.exec(raw);
    const reference = match?.[1];
    if (reference === undefined || reference.includes("$")) return;
    // "docker.io/library/node:20-alpine@sha256:…" → "node"; "eclipse-temurin:17-jre" → "eclipse-temurin".
    const name = reference.split("@")[0]?.split(":")[0] ?? "";
    const parts = name.split("/");
    const image = parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? "") ? parts.slice(1).join("/") : name;
    images.push({ image: image.replace(/^library\//, "").toLowerCase(), line: index + 1 });
  });
  return images.reverse();
}

/** The version part of a FROM reference's tag, e.g. `python:3.12-slim` → "3.12". */
export function dockerImageVersion(text: string, line: number): string | undefined {
  const raw = text.split("\n")[line - 1] ?? "";
  return /:\s*v?(\d+(?:\.\d+)*)/.exec(raw.replace(/^\s*FROM\s+(?:--\S+\s+)*/i, "").split(/\s/)[0] ?? "")?.[1];
}
