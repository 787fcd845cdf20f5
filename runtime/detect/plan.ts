import { analyzeFolder, type FolderAnalysis } from "./analyzeFolder";
import { DetectionError, type PlanCandidate } from "./detectionError";
import { evidence, type Evidence } from "./evidence";
import type { RepoFileSystem } from "./fileSystem";
import { collectFolderFacts, filesToRead } from "./folderFacts";
import { APP_MARKERS, WORKSPACE_MARKERS } from "./folderNames";
import { planFolder } from "./planFolder";
import type { DeploymentPlan } from "./planTypes";
import { isWithin, normalizeRepoPath } from "./repoPath";
import { RepoTree } from "./repoTree";
import { findWorkspace, searchFolders, SEARCH_DEPTH, workspaceMembers, type Workspace } from "./workspace";

export type { DeclaredVersions, DeploymentPlan, Language } from "./planTypes";
export type { Evidence } from "./evidence";
export { FRAMEWORKS, FRAMEWORK_IDS, isFrameworkId, type FrameworkDefinition, type FrameworkId } from "./frameworks";
export { candidatesOf, DetectionError, type PlanCandidate } from "./detectionError";

export interface DetectOptions {
  /** The folder to deploy, as the request gave it: used as is (it must exist), no search. */
  readonly rootDirectory?: string;
}

/**
 * Files read in the first round, at most: the root's own files always, and the sub-folders' manifests too when the
 * listing suggests a monorepo, so that a typical one is decided without a second round. The GitHub reader fetches
 * up to 100 files per GraphQL request.
 */
const FIRST_ROUND_LIMIT = 100;

/** Root files that make an app of the root by themselves; package.json and pyproject.toml may be workspace roots. */
const SELF_SUFFICIENT_MARKERS = APP_MARKERS.filter((name) => name !== "package.json" && name !== "pyproject.toml");

/**
 * The order a search counts apps in: anything that runs by its own manifest (a framework, a bare-language project
 * with an entry point) first, all together, since a Go API on net/http is as much an app as a Next.js site beside
 * it; a folder with only a Dockerfile next (often infrastructure: a proxy, a database image); plain pages last.
 */
const SEARCH_TIERS: readonly (readonly FolderAnalysis["tier"][])[] = [
  ["framework", "language"],
  ["docker"],
  ["static"],
];

/**
 * Decides what to build from a repository: which folder, which framework, which builder, with what commands.
 *
 * Reads through `fs` in rounds: one listing, then one batch of files per round (root files, plus likely app folders
 * when the listing looks like a monorepo; then the workspace's or searched folders' files when the root turned out
 * not to be an app). Throws a `DetectionError` (a PermanentError) with code ROOT_DIRECTORY_NOT_FOUND, AMBIGUOUS_ROOT
 * or NO_FRAMEWORK, carrying `candidates`, when there is no single answer.
 */
export async function detectPlan(fs: RepoFileSystem, options: DetectOptions = {}): Promise<DeploymentPlan> {
  const tree = new RepoTree(await fs.listFiles());
  const contents = new Map<string, string>();
  const requested = new Set<string>();
  const readRound = async (paths: readonly string[]) => {
    const wanted = [...new Set(paths)].filter((path) => !requested.has(path)).sort();
    if (wanted.length === 0) return;
    for (const path of wanted) requested.add(path);
    for (const [path, text] of await fs.readFiles(wanted)) contents.set(path, text);
  };
  const analyze = (folder: string) => analyzeFolder(collectFolderFacts(tree, folder, contents));

  if (options.rootDirectory !== undefined) return planRequestedFolder(tree, options.rootDirectory, readRound, analyze);

  const rootFiles = filesToRead(tree, "");
  const monorepoLike =
    WORKSPACE_MARKERS.some((name) => tree.hasFile(name)) ||
    !tree.filesIn("").some((name) => SELF_SUFFICIENT_MARKERS.includes(name));
  const likelyFolders = monorepoLike ? searchFolders(tree).flatMap((folder) => filesToRead(tree, folder)) : [];
  const firstRound = [...new Set([...rootFiles, ...likelyFolders])];
  await readRound(firstRound.length <= FIRST_ROUND_LIMIT ? firstRound : rootFiles);

  const rootFacts = collectFolderFacts(tree, "", contents);
  const root = analyzeFolder(rootFacts);
  const workspace = findWorkspace(rootFacts);
  if (root !== undefined && root.dockerfile !== undefined) {
    return withEvidence(planFolder(root), [
      evidence("Dockerfile", "the repository root has a Dockerfile: it deploys from the root"),
    ]);
  }
  // A bare-language root with nothing that runs (a requirements.txt of docs tooling, a go.mod of a library) yields
  // to an app found below it, and is deployed only when the search finds none.
  const rootApp =
    root !== undefined && root.library === undefined && (workspace === undefined || root.tier === "framework")
      ? root
      : undefined;
  const planRoot = (app: FolderAnalysis) =>
    withEvidence(planFolder(app), [
      workspace === undefined
        ? evidence(".", "the app is at the repository root")
        : evidence(
            "package.json",
            `the workspace root is itself a ${app.winner?.definition.name ?? ""} app: it deploys from the root`,
          ),
    ]);
  if (rootApp?.runnable) return planRoot(rootApp);

  const libraries: Evidence[] = root?.library ? [root.library] : [];
  const pickAmong = async (folders: readonly string[]) => {
    await readRound(folders.flatMap((folder) => filesToRead(tree, folder)));
    const apps: FolderAnalysis[] = [];
    for (const folder of folders) {
      const analysis = analyze(folder);
      if (analysis?.library !== undefined) libraries.push(analysis.library);
      else if (analysis !== undefined && analysis.runnable) apps.push(analysis);
    }
    for (const tier of SEARCH_TIERS) {
      const inTier = apps.filter((app) => tier.includes(app.tier));
      // An app inside another app's folder is part of it (a multi-module build, a site's own functions).
      const outermost = inTier.filter(
        (app) => !inTier.some((other) => other !== app && isWithin(app.facts.folder, other.facts.folder)),
      );
      if (outermost.length > 0) return outermost;
    }
    return [];
  };

  const members = workspace === undefined ? [] : workspaceMembers(tree, workspace.globs);
  let apps = await pickAmong(members);
  let where = workspace === undefined ? [] : [...workspace.evidence];
  if (apps.length === 0) {
    apps = await pickAmong(searchFolders(tree).filter((folder) => !members.includes(folder)));
    where = [];
  }
  const only = apps[0];
  if (apps.length === 1 && only !== undefined) {
    const folder = only.facts.folder;
    const scope =
      where.length > 0 ? "the workspace" : `the repository (root and folders up to ${SEARCH_DEPTH} levels deep)`;
    const rootHolds =
      rootApp !== undefined
        ? `only a ${rootApp.winner?.definition.name ?? ""} project with nothing to run`
        : "no app of its own";
    return withEvidence(planFolder(only), [
      ...where,
      evidence(folder, `the only deployable app in ${scope}; the root holds ${rootHolds}`),
    ]);
  }
  if (apps.length > 1) throw ambiguous(apps, workspace);
  if (rootApp !== undefined) return planRoot(rootApp);
  throw noFramework(libraries, workspace);
}

async function planRequestedFolder(
  tree: RepoTree,
  rootDirectory: string,
  readRound: (paths: readonly string[]) => Promise<void>,
  analyze: (folder: string) => FolderAnalysis | undefined,
): Promise<DeploymentPlan> {
  const folder = normalizeRepoPath(rootDirectory);
  if (folder.split("/").includes("..") || !tree.hasFolder(folder)) {
    throw new DetectionError(
      "ROOT_DIRECTORY_NOT_FOUND",
      `rootDirectory "${rootDirectory}" is not a folder of this commit. Give a folder path relative to the repository ` +
        `root (for example "apps/web"), or leave rootDirectory out to let Slipway find the app.`,
    );
  }
  await readRound(filesToRead(tree, folder));
  const analysis = analyze(folder);
  if (analysis === undefined) {
    throw new DetectionError(
      "NO_FRAMEWORK",
      `rootDirectory "${folder || "."}" holds no app Slipway recognizes: ${LOOKED_FOR}. Point rootDirectory at the ` +
        `folder holding the app's manifest, or add a Dockerfile there.`,
    );
  }
  return withEvidence(planFolder(analysis), [evidence(folder || ".", "rootDirectory given in the request")]);
}

const LOOKED_FOR =
  "a package.json with a framework or a start script, pom.xml, build.gradle(.kts), go.mod, Cargo.toml, Gemfile, " +
  "composer.json, requirements.txt, pyproject.toml, Pipfile, manage.py, index.html or a Dockerfile";

function withEvidence(plan: DeploymentPlan, root: readonly Evidence[]): DeploymentPlan {
  return { ...plan, evidence: [...plan.evidence, ...root] };
}

function ambiguous(apps: readonly FolderAnalysis[], workspace: Workspace | undefined): DetectionError {
  const candidates: PlanCandidate[] = apps.map((app) => ({
    rootDirectory: app.facts.folder,
    framework: app.framework,
  }));
  const list = candidates.map((c) => `${c.rootDirectory} (${c.framework ?? "Dockerfile"})`).join(", ");
  const scope = workspace === undefined ? "This repository" : "This workspace";
  return new DetectionError(
    "AMBIGUOUS_ROOT",
    `${scope} holds ${candidates.length} deployable apps: ${list}. Slipway will not ` +
      `guess which one you mean: send rootDirectory in the deployment request with the folder to deploy, for example ` +
      `"rootDirectory": "${candidates[0]?.rootDirectory ?? ""}".`,
    candidates,
  );
}

function noFramework(libraries: readonly Evidence[], workspace: Workspace | undefined): DetectionError {
  const where =
    workspace === undefined
      ? `at the repository root or in folders up to ${SEARCH_DEPTH} levels deep`
      : `at the workspace root, in its members or in folders up to ${SEARCH_DEPTH} levels deep`;
  const skipped = libraries.length === 0 ? "" : ` Skipped as libraries: ${libraries.map((l) => l.file).join(", ")}.`;
  return new DetectionError(
    "NO_FRAMEWORK",
    `Slipway found no app to deploy ${where}. It looked for ${LOOKED_FOR}.${skipped} If the app lives elsewhere, send ` +
      `rootDirectory in the deployment request; to deploy anything else, add a Dockerfile.`,
  );
}
