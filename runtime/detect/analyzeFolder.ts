import { evidence, type Evidence } from "./evidence";
import type { FolderFacts } from "./folderFacts";
import { BACKEND_ORDER, FRAMEWORKS, type FrameworkDefinition, type FrameworkId } from "./frameworks";
import { findSignal, matchFrameworks, type FrameworkMatch } from "./matchFrameworks";
import { dockerBaseImages } from "./parse/dockerfile";
import { joinPath } from "./repoPath";

/** What one folder holds, before any command is worked out. */
export interface FolderAnalysis {
  readonly facts: FolderFacts;
  /** Absent only for a folder whose Dockerfile is all there is to go on and names no stack we know. */
  readonly winner?: FrameworkMatch;
  readonly framework: FrameworkId | null;
  /** How strongly the folder is an app, for choosing among folders: a framework beats a bare language project. */
  readonly tier: "framework" | "language" | "static" | "docker";
  /** The folder's Dockerfile (repository path): the app deploys with it. */
  readonly dockerfile?: string;
  /** Set when the folder is a package published for others (the reason), not an app to deploy. */
  readonly library?: Evidence;
  /**
   * Whether something here runs: always for frameworks; for a bare-language project, one of its row's `runs`
   * signals (a searched folder without one is tooling or a library, not an app).
   */
  readonly runnable: boolean;
  /** A package.json beside the winning backend that only carries its front-end tooling. */
  readonly frontendTooling: boolean;
  /** Matches that lost but may have been meant: same-folder ties, another stack's framework. */
  readonly alternatives: readonly FrameworkMatch[];
  /** Why the winner won over the others. */
  readonly reasons: readonly Evidence[];
}

/** Base images that tell a Dockerfile's stack when nothing else in the folder does; first match wins. */
const IMAGE_FRAMEWORKS: readonly (readonly [RegExp, FrameworkId])[] = [
  [/^(?:node|oven\/bun|denoland\/deno)$/, "nodejs"],
  [/^(?:python|tiangolo\/.*)$/, "python"],
  [/^(?:golang)$/, "go"],
  [/^(?:rust)$/, "rust"],
  [/^(?:ruby)$/, "ruby"],
  [/^(?:php|composer)$/, "php"],
  [
    /^(?:openjdk|eclipse-temurin|amazoncorretto|maven|gradle|ibm-semeru-runtimes|azul\/zulu-openjdk.*|sapmachine)$/,
    "java",
  ],
  [/^(?:nginx|httpd|caddy|nginxinc\/.*)$/, "static"],
];

const bySpecificity = (a: FrameworkMatch, b: FrameworkMatch) =>
  b.definition.specificity - a.definition.specificity ||
  FRAMEWORKS.indexOf(a.definition) - FRAMEWORKS.indexOf(b.definition);

const byBackendOrder = (a: FrameworkMatch, b: FrameworkMatch) =>
  b.definition.specificity - a.definition.specificity ||
  BACKEND_ORDER.indexOf(a.definition.ecosystem) - BACKEND_ORDER.indexOf(b.definition.ecosystem) ||
  FRAMEWORKS.indexOf(a.definition) - FRAMEWORKS.indexOf(b.definition);

/**
 * Picks the folder's app among the rows that match. Within one stack the most specific row wins. Across stacks:
 * a package.json with a server or full-stack framework of its own makes a Node app; otherwise a backend manifest
 * (pom.xml, go.mod, Gemfile, …) wins and the package.json is that backend's front-end tooling; a plain
 * index.html counts only when nothing else does.
 */
export function analyzeFolder(facts: FolderFacts): FolderAnalysis | undefined {
  const matches = matchFrameworks(facts);
  const dockerfile = facts.tree.hasFile(joinPath(facts.folder, "Dockerfile"))
    ? joinPath(facts.folder, "Dockerfile")
    : undefined;
  const nodeMatches = matches.filter((m) => m.definition.ecosystem === "node").sort(bySpecificity);
  const backendMatches = matches
    .filter((m) => !["node", "static"].includes(m.definition.ecosystem))
    .sort(byBackendOrder);
  const nodeServer = nodeMatches.find((m) => m.definition.standsAlone);
  const reasons: Evidence[] = [];

  let winner: FrameworkMatch | undefined;
  let frontendTooling = false;
  if (nodeMatches[0] !== undefined && (nodeServer !== undefined || backendMatches.length === 0)) {
    winner = nodeMatches[0];
    const backend = backendMatches[0];
    if (backend !== undefined && nodeServer !== undefined) {
      reasons.push(
        evidence(
          joinPath(facts.folder, "package.json"),
          `package.json has a ${nodeServer.definition.name} app of its own, so it is a Node app despite ${backend.evidence[0]?.file ?? "a backend manifest"}`,
        ),
      );
    }
  } else if (backendMatches[0] !== undefined) {
    winner = backendMatches[0];
    if (facts.packageJson !== undefined) {
      frontendTooling = true;
      reasons.push(
        evidence(
          joinPath(facts.folder, "package.json"),
          `package.json carries only front-end tooling (no Node server or framework of its own): built as part of the ${winner.definition.name} app`,
        ),
      );
    }
  } else {
    winner = [...matches].sort(bySpecificity)[0];
  }

  if (winner === undefined) {
    if (dockerfile === undefined) return undefined;
    return analyzeDockerfileOnly(facts, dockerfile);
  }

  const sameStackTies = matches.filter(
    (m) =>
      m !== winner &&
      m.definition.ecosystem === winner.definition.ecosystem &&
      m.definition.specificity === winner.definition.specificity,
  );
  const otherStacks = frontendTooling
    ? backendMatches.filter((m) => m.definition.ecosystem !== winner.definition.ecosystem)
    : [...nodeMatches, ...backendMatches].filter((m) => m.definition.ecosystem !== winner.definition.ecosystem);
  const bestOfEachOtherStack = new Map<string, FrameworkMatch>();
  for (const match of otherStacks.sort(bySpecificity)) {
    if (match.definition.tier === "framework" && !bestOfEachOtherStack.has(match.definition.ecosystem)) {
      bestOfEachOtherStack.set(match.definition.ecosystem, match);
    }
  }
  // Say why a framework beat another framework it builds on (Next.js over Vite); beating the bare language is obvious.
  const beaten = matches.filter(
    (m) =>
      m.definition.ecosystem === winner.definition.ecosystem &&
      m.definition.tier === "framework" &&
      m.definition.specificity < winner.definition.specificity,
  );
  if (beaten.length > 0) {
    reasons.push(
      evidence(
        winner.evidence[0]?.file ?? facts.folder,
        `${winner.definition.name} is more specific than ${beaten.map((m) => m.definition.name).join(", ")}`,
      ),
    );
  }

  const runs = winner.definition.runs;
  const analysis: { -readonly [K in keyof FolderAnalysis]: FolderAnalysis[K] } = {
    facts,
    winner,
    framework: winner.definition.id,
    tier: winner.definition.tier,
    runnable:
      dockerfile !== undefined || runs === undefined || runs.some((signal) => findSignal(signal, facts) !== undefined),
    frontendTooling,
    alternatives: [...sameStackTies, ...bestOfEachOtherStack.values()],
    reasons,
  };
  if (dockerfile !== undefined) analysis.dockerfile = dockerfile;
  const library = libraryReason(facts, winner);
  if (library !== undefined) analysis.library = library;
  return analysis;
}

/**
 * A package published for others is not an app, even when it depends on a framework (a component library built
 * with Vite, a CLI that scaffolds Next.js apps). Published: it has a `bin` or `publishConfig`, or a script that
 * publishes it; or it declares entry points for importers (`exports`, `types`, `files`, …) and has no start script.
 * A page of its own (index.html) keeps a folder an app whatever its package.json says; a config file does not
 * (Vite's library mode has one too).
 */
function libraryReason(facts: FolderFacts, winner: FrameworkMatch): Evidence | undefined {
  const pkg = facts.packageJson;
  if (winner.definition.ecosystem !== "node" || pkg === undefined) return undefined;
  const packageJson = joinPath(facts.folder, "package.json");
  if (facts.nearFiles.includes("index.html")) return undefined;
  const published = pkg.libraryFields.filter((field) => field === "bin" || field === "publishConfig");
  if (published.length > 0)
    return evidence(packageJson, `package.json publishes a package (${published.join(", ")}), not an app`);
  if (pkg.publishScript !== undefined) {
    return evidence(
      packageJson,
      `the "${pkg.publishScript}" script publishes this package to a registry: a library, not an app`,
    );
  }
  if (pkg.libraryFields.length > 0 && pkg.scripts["start"] === undefined) {
    return evidence(packageJson, `package.json is a library's (${pkg.libraryFields.join(", ")}) with no start script`);
  }
  return undefined;
}

function analyzeDockerfileOnly(facts: FolderFacts, dockerfile: string): FolderAnalysis {
  const text = facts.read("Dockerfile") ?? "";
  for (const { image, line } of dockerBaseImages(text)) {
    const found = IMAGE_FRAMEWORKS.find(([pattern]) => pattern.test(image));
    const definition: FrameworkDefinition | undefined = FRAMEWORKS.find((d) => d.id === found?.[1]);
    if (definition !== undefined) {
      return {
        facts,
        winner: { definition, evidence: [evidence(dockerfile, `builds FROM ${image}`, line)] },
        framework: definition.id,
        tier: "docker",
        runnable: true,
        dockerfile,
        frontendTooling: false,
        alternatives: [],
        reasons: [],
      };
    }
  }
  return {
    facts,
    framework: null,
    tier: "docker",
    runnable: true,
    dockerfile,
    frontendTooling: false,
    alternatives: [],
    reasons: [],
  };
}
