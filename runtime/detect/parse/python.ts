import { readTomlEntries, tomlString } from "./toml";
import { findLine, quotedStrings, type Located } from "./text";

/** PEP 503 normalization: "Flask_SQLAlchemy" and "flask-sqlalchemy" are the same project. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The project a PEP 508 requirement names: "django[argon2]>=4.2 ; python_version>'3'" → "django". */
export function requirementName(spec: string): string | undefined {
  const egg = /#egg=([A-Za-z0-9._-]+)/.exec(spec)?.[1];
  if (egg !== undefined) return normalizePythonName(egg);
  const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec)?.[1];
  return name === undefined ? undefined : normalizePythonName(name);
}

/** `requirements*.txt`: project name → line. Options (`-r`, `-e`, `--hash`) and URLs without `#egg=` are skipped. */
export function parseRequirements(text: string): Map<string, number> {
  const found = new Map<string, number>();
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#(?!egg=).*$/, "").trim();
    if (line === "" || (line.startsWith("-") && !line.includes("#egg="))) return;
    if (/^[a-z+]+:\/\//i.test(line) && !line.includes("#egg=")) return;
    const name = requirementName(line.replace(/^-e\s+/, ""));
    if (name !== undefined && !found.has(name)) found.set(name, index + 1);
  });
  return found;
}

export interface PyprojectFacts {
  /** Dependencies from PEP 621, PEP 735 groups and Poetry tables, normalized name → line. */
  readonly dependencies: ReadonlyMap<string, number>;
  readonly requiresPython?: Located;
  /** `[tool.X]` tables present: "poetry", "uv", "pdm", "hatch", … */
  readonly tools: ReadonlySet<string>;
  /** `[tool.uv.workspace] members`: this pyproject is a uv workspace root. */
  readonly uvWorkspaceMembers?: readonly string[];
}

export function parsePyproject(text: string): PyprojectFacts {
  const dependencies = new Map<string, number>();
  const tools = new Set<string>();
  let requiresPython: Located | undefined;
  let uvWorkspaceMembers: string[] | undefined;
  const add = (name: string | undefined, line: number) => {
    if (name !== undefined && name !== "python" && !dependencies.has(name)) dependencies.set(name, line);
  };
  for (const entry of readTomlEntries(text)) {
    const path = entry.path;
    if (path[0] === "tool" && path[1] !== undefined) tools.add(path[1]);
    const isPep621 = path[0] === "project" && (path[1] === "dependencies" || path[1] === "optional-dependencies");
    const isGroup = path[0] === "dependency-groups";
    if ((isPep621 || isGroup) && entry.value.trim().startsWith("[")) {
      for (const spec of quotedStrings(entry.value)) add(requirementName(spec), findLine(text, spec, entry.line));
    }
    // [tool.poetry.dependencies], [tool.poetry.dev-dependencies], [tool.poetry.group.<g>.dependencies]
    const poetryTable =
      path[0] === "tool" &&
      path[1] === "poetry" &&
      ((path.length === 4 && (path[2] === "dependencies" || path[2] === "dev-dependencies")) ||
        (path.length === 6 && path[2] === "group" && path[4] === "dependencies"));
    const name = path[path.length - 1];
    if (poetryTable && name !== undefined) {
      if (name === "python")
        requiresPython ??= { value: tomlString(entry.value) ?? entry.value.trim(), line: entry.line };
      else add(normalizePythonName(name), entry.line);
    }
    if (path.join(".") === "tool.uv.workspace.members") uvWorkspaceMembers = quotedStrings(entry.value);
    if (path[0] === "project" && path[1] === "requires-python" && path.length === 2) {
      const value = tomlString(entry.value);
      if (value !== undefined) requiresPython = { value, line: entry.line };
    }
  }
  return {
    dependencies,
    tools,
    ...(requiresPython ? { requiresPython } : {}),
    ...(uvWorkspaceMembers ? { uvWorkspaceMembers } : {}),
  };
}

export interface PipfileFacts {
  readonly dependencies: ReadonlyMap<string, number>;
  readonly python?: Located;
}

export function parsePipfile(text: string): PipfileFacts {
  const dependencies = new Map<string, number>();
  let python: Located | undefined;
  for (const entry of readTomlEntries(text)) {
    const [section, key] = entry.path;
    if (key === undefined || entry.path.length !== 2) continue;
    if (section === "packages" || section === "dev-packages") {
      const name = normalizePythonName(key);
      if (!dependencies.has(name)) dependencies.set(name, entry.line);
    } else if (section === "requires" && (key === "python_full_version" || (key === "python_version" && !python))) {
      const value = tomlString(entry.value);
      if (value !== undefined) python = { value, line: entry.line };
    }
  }
  return python ? { dependencies, python } : { dependencies };
}
