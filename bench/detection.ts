import { readdirSync, readFileSync } from "fs";
import { join, posix } from "path";
import { DetectorFilesystem, detectFramework, getProjectPaths } from "@vercel/fs-detectors";
import { frameworkList } from "@vercel/frameworks";
import { startGitHub, type GitHubEmulator, type RequestRecord } from "../local/emulators/github";
import { createMemoryFileSystem, type RepoFileSystem } from "../runtime/detect/fileSystem";
import { candidatesOf, detectPlan } from "../runtime/detect/plan";
import { createInstallationTokens } from "../runtime/github/installationTokens";
import { createRepositorySessions } from "../runtime/inspect/repositorySessions";
import { describeError } from "../runtime/errors";
import { generateAppKeys } from "../test/helpers/emulators";
import { textTable } from "../scripts/textTable";

/** One repository of the corpus in test/fixtures/repos (format in its README). */
export interface CorpusFixture {
  /** The file name without `.json`. */
  readonly id: string;
  /** `owner/name`, from the fixture's `github:owner/name` source. */
  readonly repository: string;
  readonly files: Readonly<Record<string, string | null>>;
  readonly expected:
    | { readonly framework: string; readonly builder: string; readonly rootDirectory: string }
    | { readonly reason: string; readonly candidates: readonly string[] };
}

/** What a detector answered, reduced to what the corpus judges. */
export type Outcome =
  | { readonly framework: string | null; readonly builder?: string; readonly rootDirectory: string }
  | { readonly reason: string; readonly candidates: readonly string[] };

export const CORPUS_FOLDER = join(__dirname, "..", "test", "fixtures", "repos");

export function loadCorpus(folder = CORPUS_FOLDER): CorpusFixture[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => {
      const raw = JSON.parse(readFileSync(join(folder, name), "utf8")) as Omit<CorpusFixture, "id" | "repository"> & {
        source: string;
      };
      return {
        id: name.replace(/\.json$/, ""),
        repository: raw.source.replace(/^github:/, ""),
        files: raw.files,
        expected: raw.expected,
      };
    });
}

/**
 * A monorepo fixture: the app is not at the root, or there is no single app. The issue budgets these at 4 GitHub
 * requests and every other (single-app) fixture at 2.
 */
export const isMonorepoFixture = (fixture: CorpusFixture): boolean =>
  "reason" in fixture.expected || fixture.expected.rootDirectory !== "";

export const REQUEST_BUDGET = { single: 2, monorepo: 4 } as const;

export const requestBudget = (fixture: CorpusFixture): number =>
  isMonorepoFixture(fixture) ? REQUEST_BUDGET.monorepo : REQUEST_BUDGET.single;

/** Whether an answer is right: the same framework and root, or the same refusal with the same candidate folders. */
export function isCorrect(expected: CorpusFixture["expected"], actual: Outcome): boolean {
  if ("reason" in expected) {
    return (
      "reason" in actual && actual.reason === expected.reason && sameMembers(actual.candidates, expected.candidates)
    );
  }
  return (
    !("reason" in actual) && actual.framework === expected.framework && actual.rootDirectory === expected.rootDirectory
  );
}

const sameMembers = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);

/** Slipway's answer for any file system, as an Outcome; a refusal keeps its code and candidate folders. */
export async function slipwayOutcome(fs: RepoFileSystem): Promise<Outcome> {
  try {
    const plan = await detectPlan(fs);
    return { framework: plan.framework, builder: plan.builder, rootDirectory: plan.rootDirectory };
  } catch (error) {
    return {
      reason: describeError(error).code,
      candidates: (candidatesOf(error) ?? []).map((candidate) => candidate.rootDirectory),
    };
  }
}

// ---- GitHub requests through the emulator ---------------------------------------------------------------------------

/** The one request the count leaves out besides the ref: minting, which the issue does not count. */
const MINT_OPERATION = "POST /app/installations/{installation_id}/access_tokens";

export interface GitHubDetection {
  readonly outcome: Outcome;
  /**
   * The HTTP requests detection made, by operation ("GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
   * "POST /graphql"), as the emulator logged them. What counts: every request from the moment the commit SHA is
   * known until the plan (or the refusal) is out. Not counted: minting the installation token, and resolving the
   * ref to a SHA, which the inspector does before detection because the source archive needs the SHA anyway (one
   * request, reported as `resolveRequests`).
   */
  readonly requests: readonly string[];
  readonly resolveRequests: number;
}

export interface GitHubCorpus {
  readonly emulator: GitHubEmulator;
  /** Detects one fixture exactly as the inspector does: its repository sessions, the real client, the real cache. */
  detect(fixture: CorpusFixture): Promise<GitHubDetection>;
  close(): Promise<void>;
}

const BENCH_APP_ID = 4242;

/**
 * Serves every fixture from the GitHub emulator (a file kept as `null` is served as an empty file, as the memory
 * backend reads it) and detects through the inspector's own wiring. Detect one fixture at a time: the count is a
 * slice of the emulator's request log.
 */
export async function startGitHubCorpus(fixtures: readonly CorpusFixture[]): Promise<GitHubCorpus> {
  const keys = generateAppKeys();
  const emulator = await startGitHub({
    appId: BENCH_APP_ID,
    appPublicKey: keys.publicKey,
    repositories: Object.fromEntries(
      fixtures.map((fixture) => [
        fixture.repository,
        { files: Object.fromEntries(Object.entries(fixture.files).map(([path, text]) => [path, text ?? ""])) },
      ]),
    ),
  });
  const tokens = createInstallationTokens({
    appId: String(BENCH_APP_ID),
    loadPrivateKey: async () => keys.privateKey,
    baseUrl: emulator.url,
  });
  const openRepository = createRepositorySessions({ tokens, baseUrl: emulator.url });

  return {
    emulator,
    async detect(fixture) {
      const [owner = "", name = ""] = fixture.repository.split("/");
      const installation = { userId: "bench", installationId: emulator.installationIdFor(owner) };
      const session = await openRepository(installation, owner, name);
      const beforeResolve = emulator.requests().length;
      const commitSha = await session.resolveCommit(undefined);
      const beforeDetect = emulator.requests().length;
      const outcome = await session.detect(commitSha, undefined).then(
        (plan): Outcome => ({ framework: plan.framework, builder: plan.builder, rootDirectory: plan.rootDirectory }),
        (error: unknown): Outcome => ({
          reason: describeError(error).code,
          candidates: (candidatesOf(error) ?? []).map((candidate) => candidate.rootDirectory),
        }),
      );
      const log = emulator.requests();
      const counted = (records: readonly RequestRecord[]) =>
        records.filter((record) => record.operation !== MINT_OPERATION);
      return {
        outcome,
        requests: counted(log.slice(beforeDetect)).map(
          (record) => record.operation ?? `${record.method} ${record.path}`,
        ),
        resolveRequests: counted(log.slice(beforeResolve, beforeDetect)).length,
      };
    },
    close: () => emulator.close(),
  };
}

// ---- Vercel's detector over the same files -------------------------------------------------------------------------

/**
 * Vercel's abstract file system over a fixture's files: the same tree Slipway's memory backend reads, `null`
 * contents read as empty files. Paths are relative to `cwd` ("" for the repository root).
 */
class FixtureFilesystem extends DetectorFilesystem {
  constructor(
    private readonly files: ReadonlyMap<string, string>,
    private readonly cwd = "",
  ) {
    super();
  }

  private resolve(name: string): string {
    const path = posix.normalize(posix.join(this.cwd, name));
    return path === "." || path === "./" ? "" : path.replace(/\/$/, "");
  }

  protected async _hasPath(name: string): Promise<boolean> {
    const path = this.resolve(name);
    if (path === "") return true;
    return this.files.has(path) || [...this.files.keys()].some((file) => file.startsWith(`${path}/`));
  }

  protected async _isFile(name: string): Promise<boolean> {
    return this.files.has(this.resolve(name));
  }

  protected async _readFile(name: string): Promise<Buffer> {
    const content = this.files.get(this.resolve(name));
    if (content === undefined) throw new Error(`${name}: no such file`);
    return Buffer.from(content);
  }

  protected async _readdir(name: string): Promise<Awaited<ReturnType<DetectorFilesystem["readdir"]>>> {
    const folder = this.resolve(name);
    const prefix = folder === "" ? "" : `${folder}/`;
    const entries = new Map<string, "file" | "dir">();
    for (const file of this.files.keys()) {
      if (!file.startsWith(prefix)) continue;
      const [entry = "", ...below] = file.slice(prefix.length).split("/");
      entries.set(entry, below.length > 0 ? "dir" : "file");
    }
    const relative = posix.normalize(name === "/" ? "." : name);
    return [...entries].map(([entry, type]) => ({ name: entry, path: posix.join(relative, entry), type }));
  }

  protected _chdir(name: string): DetectorFilesystem {
    return new FixtureFilesystem(this.files, this.resolve(name));
  }
}

/**
 * Vercel's framework slugs → Slipway's framework ids, where the two mean the same thing. A slug absent from this
 * table (hugo, storybook, container…) is an answer Slipway has no id for, so it is always wrong on this corpus.
 */
const VERCEL_TO_SLIPWAY: Readonly<Record<string, string>> = {
  nextjs: "nextjs",
  nuxtjs: "nuxtjs",
  sveltekit: "sveltekit",
  "sveltekit-1": "sveltekit",
  astro: "astro",
  remix: "remix",
  gatsby: "gatsby",
  angular: "angular",
  "ionic-angular": "angular",
  vue: "vue",
  "create-react-app": "create-react-app",
  vite: "vite",
  nestjs: "nestjs",
  express: "express",
  fastify: "fastify",
  koa: "koa",
  hono: "hono",
  node: "nodejs",
  django: "django",
  flask: "flask",
  fastapi: "fastapi",
  python: "python",
  go: "go",
  rust: "rust",
  axum: "axum",
  "actix-web": "actix-web",
  ruby: "ruby",
};

const vercelToSlipway = (slug: string): string => VERCEL_TO_SLIPWAY[slug] ?? `vercel:${slug}`;

/**
 * Vercel's answer as its import flow would give it: `detectFramework` at the root (experimental entries included,
 * which only adds answers: axum, actix-web, ruby); when the root has none, `getProjectPaths`, Vercel's own monorepo
 * search (3 levels): one project folder is the answer, several are a refusal to guess.
 */
export async function vercelOutcome(files: Readonly<Record<string, string | null>>): Promise<Outcome> {
  const fs = new FixtureFilesystem(new Map(Object.entries(files).map(([path, text]) => [path, text ?? ""])));
  const detectAt = (folder: string) =>
    detectFramework({ fs: fs.chdir(folder || "."), frameworkList, useExperimentalFrameworks: true });
  const atRoot = await detectAt("");
  if (atRoot !== null) return { framework: vercelToSlipway(atRoot), rootDirectory: "" };
  const folders = (await getProjectPaths({ fs })).map((path) => posix.normalize(path).replace(/^\.\/?|\/$/g, ""));
  const only = folders[0];
  if (folders.length === 1 && only !== undefined) {
    const framework = await detectAt(only);
    return { framework: framework === null ? null : vercelToSlipway(framework), rootDirectory: only };
  }
  if (folders.length > 1) return { reason: "AMBIGUOUS_ROOT", candidates: folders };
  return { framework: null, rootDirectory: "" };
}

// ---- the report -----------------------------------------------------------------------------------------------------

const FAMILIES = [
  "JavaScript front-end",
  "JavaScript server",
  "JVM",
  "Python",
  "Go",
  "Rust",
  "Ruby",
  "PHP",
  "static",
  "monorepo/ambiguous",
] as const;
type Family = (typeof FAMILIES)[number];

/** Which family a single-app fixture's expected framework belongs to. */
const FAMILY_OF: Readonly<Record<string, Family>> = {
  nextjs: "JavaScript front-end",
  nuxtjs: "JavaScript front-end",
  sveltekit: "JavaScript front-end",
  astro: "JavaScript front-end",
  remix: "JavaScript front-end",
  gatsby: "JavaScript front-end",
  angular: "JavaScript front-end",
  vue: "JavaScript front-end",
  "create-react-app": "JavaScript front-end",
  vite: "JavaScript front-end",
  nestjs: "JavaScript server",
  express: "JavaScript server",
  fastify: "JavaScript server",
  koa: "JavaScript server",
  hono: "JavaScript server",
  nodejs: "JavaScript server",
  "spring-boot": "JVM",
  quarkus: "JVM",
  micronaut: "JVM",
  java: "JVM",
  django: "Python",
  flask: "Python",
  fastapi: "Python",
  python: "Python",
  gin: "Go",
  echo: "Go",
  fiber: "Go",
  go: "Go",
  axum: "Rust",
  "actix-web": "Rust",
  rocket: "Rust",
  rust: "Rust",
  rails: "Ruby",
  sinatra: "Ruby",
  ruby: "Ruby",
  laravel: "PHP",
  symfony: "PHP",
  php: "PHP",
  static: "static",
};

export function familyOf(fixture: CorpusFixture): Family {
  if ("reason" in fixture.expected || fixture.expected.rootDirectory !== "") return "monorepo/ambiguous";
  const family = FAMILY_OF[fixture.expected.framework];
  if (family === undefined) throw new Error(`${fixture.id}: no family for framework ${fixture.expected.framework}`);
  return family;
}

/** An answer in a table cell: "nextjs @ apps/web", "AMBIGUOUS_ROOT (backend, frontend)", long lists cut. */
function describe(outcome: Outcome): string {
  if (!("reason" in outcome)) return `${outcome.framework ?? "none"} @ ${outcome.rootDirectory || "."}`;
  const candidates = [...outcome.candidates].sort();
  const shown = candidates.length > 4 ? [...candidates.slice(0, 3), `… ${candidates.length - 3} more`] : candidates;
  return `${outcome.reason} (${shown.join(", ")})`;
}

/** What a reader must know before comparing the two columns. */
const ACCURACY_NOTES = [
  "Slipway's detector was developed against this corpus (its expectations were written from the repositories first): its score is on known cases, not a held-out set.",
  "Vercel has no entries for JVM, PHP, static sites, gin/echo/fiber, Rails/Sinatra or Rocket: there it can only " +
    "answer a generic runtime (go, ruby, rust, node) or nothing.",
  "Vercel's JavaScript server entries (express, hono, koa, fastify, nestjs) also match an entry file's contents " +
    "(`import express`…); the fixtures keep no source code (those files are empty), so they cannot match here.",
  "Vercel's answer: detectFramework at the root (experimental entries on); when none, getProjectPaths, one folder " +
    "is the answer and several a refusal. Its slugs are mapped to Slipway's ids (sveltekit-1 → sveltekit, node → nodejs…).",
];

const percent = (count: number, total: number) => `${count}/${total} (${Math.round((100 * count) / total)}%)`;

/** Nearest-rank percentile of a non-empty list. */
function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}

function printTable(rows: readonly (readonly string[])[]): void {
  for (const line of textTable(rows)) console.log(line);
}

/**
 * Runs Slipway's detector (memory backend) and Vercel's (`@vercel/fs-detectors`) over the whole corpus and prints
 * accuracy per family for both ("correct framework and root"), then the GitHub requests Slipway's detection makes
 * per repository through the GitHub emulator, with p50/max per class. Figures only; the budgets are asserted by
 * test/detect-github-backend.test.ts.
 */
export async function runDetectionBench(): Promise<void> {
  const started = Date.now();
  const fixtures = loadCorpus();
  const github = await startGitHubCorpus(fixtures);
  const results: {
    fixture: CorpusFixture;
    family: Family;
    slipway: Outcome;
    vercel: Outcome;
    github: GitHubDetection;
  }[] = [];
  try {
    for (const fixture of fixtures) {
      results.push({
        fixture,
        family: familyOf(fixture),
        slipway: await slipwayOutcome(createMemoryFileSystem(fixture.files)),
        vercel: await vercelOutcome(fixture.files).catch((error: unknown): Outcome => ({
          reason: `threw: ${describeError(error).message}`,
          candidates: [],
        })),
        github: await github.detect(fixture),
      });
    }
  } finally {
    await github.close();
  }

  console.log(`Detection accuracy on ${fixtures.length} real repositories (correct framework and root)`);
  const accuracy: string[][] = [["family", "fixtures", "Slipway", "@vercel/fs-detectors"]];
  for (const family of [...FAMILIES, "all" as const]) {
    const inFamily = results.filter((result) => family === "all" || result.family === family);
    if (inFamily.length === 0) continue;
    const right = (pick: (result: (typeof results)[number]) => Outcome) =>
      inFamily.filter((result) => isCorrect(result.fixture.expected, pick(result))).length;
    accuracy.push([
      family,
      String(inFamily.length),
      percent(
        right((result) => result.slipway),
        inFamily.length,
      ),
      percent(
        right((result) => result.vercel),
        inFamily.length,
      ),
    ]);
  }
  printTable(accuracy);
  for (const note of ACCURACY_NOTES) console.log(`  * ${note}`);

  console.log("\nPer repository: answers (✗ marks a wrong one) and GitHub requests through the emulator");
  console.log(
    "(requests = tree listing + GraphQL reads after the ref is resolved; minting and the 1 ref lookup not counted)",
  );
  const perRepository: string[][] = [["fixture", "expected", "Slipway", "Vercel", "requests", "budget"]];
  for (const { fixture, slipway, vercel, github: detection } of results) {
    const mark = (outcome: Outcome) => (isCorrect(fixture.expected, outcome) ? "✓" : `✗ ${describe(outcome)}`);
    const requests = detection.requests.length;
    const budget = requestBudget(fixture);
    perRepository.push([
      fixture.id,
      describe(fixture.expected),
      mark(slipway),
      mark(vercel),
      `${requests} (${shortOperations(detection.requests)})`,
      requests <= budget ? `≤ ${budget}` : `OVER ${budget}`,
    ]);
    if (!sameOutcome(slipway, detection.outcome)) {
      perRepository.push(["", "", `GitHub backend differs: ${describe(detection.outcome)}`, "", "", ""]);
    }
  }
  printTable(perRepository);

  console.log("\nGitHub requests per repository, by class");
  const classes: string[][] = [["class", "repositories", "p50", "max", "budget", "over budget"]];
  for (const monorepo of [false, true]) {
    const inClass = results.filter((result) => isMonorepoFixture(result.fixture) === monorepo);
    if (inClass.length === 0) continue;
    const counts = inClass.map((result) => result.github.requests.length);
    const budget = monorepo ? REQUEST_BUDGET.monorepo : REQUEST_BUDGET.single;
    classes.push([
      monorepo ? "monorepo" : "single app",
      String(inClass.length),
      String(percentile(counts, 0.5)),
      String(Math.max(...counts)),
      String(budget),
      String(counts.filter((count) => count > budget).length),
    ]);
  }
  printTable(classes);
  console.log(`\ndetection bench: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if ("reason" in a || "reason" in b) {
    return "reason" in a && "reason" in b && a.reason === b.reason && sameMembers(a.candidates, b.candidates);
  }
  return a.framework === b.framework && a.rootDirectory === b.rootDirectory && a.builder === b.builder;
}

/** "1 tree + 2 graphql" from operation names. */
function shortOperations(operations: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const operation of operations) {
    const kind = operation.includes("/git/trees/") ? "tree" : operation.includes("/graphql") ? "graphql" : operation;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, count]) => `${count} ${kind}`).join(" + ") || "none";
}
