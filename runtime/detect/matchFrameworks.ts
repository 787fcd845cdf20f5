import { evidence, type Evidence } from "./evidence";
import type { FolderFacts } from "./folderFacts";
import { FRAMEWORKS, type FrameworkDefinition, type Signal } from "./frameworks";
import { globToRegExp } from "./glob";
import { normalizePythonName } from "./parse/python";
import { joinPath } from "./repoPath";

export interface FrameworkMatch {
  readonly definition: FrameworkDefinition;
  /** The signals that matched, as evidence. */
  readonly evidence: readonly Evidence[];
}

/** Where a signal shows in the folder, or undefined when it does not. */
export function findSignal(signal: Signal, facts: FolderFacts): Evidence | undefined {
  const declaredIn = (found: { file: string; line: number } | undefined, what: string) =>
    found === undefined ? undefined : evidence(found.file, what, found.line);

  if ("npm" in signal) return declaredIn(facts.npm.get(signal.npm), `depends on ${signal.npm}`);
  if ("jvm" in signal) {
    const found = facts.jvm.find((c) => c.group === signal.jvm || c.group.startsWith(signal.jvm + "."));
    if (found === undefined) return undefined;
    const what =
      found.artifact === undefined ? `applies plugin ${found.group}` : `declares ${found.group}:${found.artifact}`;
    return evidence(found.file, what, found.line);
  }
  if ("goModule" in signal) {
    for (const [module, at] of facts.goModules) {
      if (module === signal.goModule || new RegExp(`^${escape(signal.goModule)}/v\\d+$`).test(module)) {
        return evidence(at.file, `requires ${module}`, at.line);
      }
    }
    return undefined;
  }
  if ("crate" in signal) return declaredIn(facts.crates.get(signal.crate), `depends on crate ${signal.crate}`);
  if ("gem" in signal) return declaredIn(facts.gems.get(signal.gem), `bundles gem ${signal.gem}`);
  if ("composer" in signal)
    return declaredIn(facts.composerPackages.get(signal.composer), `requires ${signal.composer}`);
  if ("pypi" in signal) {
    return declaredIn(facts.pypi.get(normalizePythonName(signal.pypi)), `requires Python package ${signal.pypi}`);
  }
  if ("pyprojectTool" in signal) {
    return facts.pyproject?.tools.has(signal.pyprojectTool)
      ? evidence(joinPath(facts.folder, "pyproject.toml"), `has a [tool.${signal.pyprojectTool}] table`)
      : undefined;
  }
  if ("scriptRuns" in signal) {
    const runs = new RegExp(`(^|[\\s;&|(])${escape(signal.scriptRuns)}(\\s|$)`);
    const found = Object.entries(facts.packageJson?.scripts ?? {}).find(([, command]) => runs.test(command));
    return found === undefined
      ? undefined
      : evidence(
          joinPath(facts.folder, "package.json"),
          `the "${found[0]}" script runs ${signal.scriptRuns}: ${found[1]}`,
        );
  }
  if ("script" in signal) {
    const script = facts.packageJson?.scripts[signal.script];
    return script === undefined
      ? undefined
      : evidence(joinPath(facts.folder, "package.json"), `has a "${signal.script}" script: ${script}`);
  }
  const pattern = globToRegExp(signal.file); // once per signal, not once per file
  const file = facts.nearFiles.find((relative) => pattern.test(relative));
  return file === undefined ? undefined : evidence(joinPath(facts.folder, file), `${file} is present`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether the definition's detectors hold in this folder, with the evidence of each signal that matched. */
export function matchFramework(definition: FrameworkDefinition, facts: FolderFacts): FrameworkMatch | undefined {
  const { some, every = [], none = [] } = definition.detect;
  if (none.some((signal) => findSignal(signal, facts) !== undefined)) return undefined;
  const required = every.map((signal) => findSignal(signal, facts));
  if (required.some((found) => found === undefined)) return undefined;
  const any = some.map((signal) => findSignal(signal, facts)).filter((found): found is Evidence => found !== undefined);
  if (some.length > 0 && any.length === 0) return undefined;
  return { definition, evidence: [...(required as Evidence[]), ...any] };
}

/** Every row of the table that matches the folder, in table order. */
export function matchFrameworks(facts: FolderFacts): FrameworkMatch[] {
  return FRAMEWORKS.map((definition) => matchFramework(definition, facts)).filter(
    (match): match is FrameworkMatch => match !== undefined,
  );
}
