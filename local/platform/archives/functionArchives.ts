import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionCodeSource } from "../../../components/functionBundle";

/** What `buildFunctionArchives.ts` writes beside the archives. */
export interface ArchiveManifest {
  /** The compiler that produced the serialized code (Pulumi's ts-node and the project's TypeScript). */
  readonly compiledBy: string;
  /** Function resource name (e.g. `slipway-inspector`) → what the stack declared for it. */
  readonly functions: Record<
    string,
    {
      handler: string;
      runtime: string;
      memorySize: number;
      timeout: number;
      /** The variables the stack sets, as the build's placeholder configuration resolves them (names, not secrets). */
      environment: Record<string, string>;
    }
  >;
}

export interface FunctionArchives {
  /** The folder holding one unpacked archive per function. */
  readonly dir: string;
  readonly manifest: ArchiveManifest;
  /** The unpacked archive (Lambda's /var/task) of a function, by its Pulumi resource name. */
  codeDir(resourceName: string): string;
}

export interface EnsureArchivesOptions {
  readonly projectRoot?: string;
  /** Default `<projectRoot>/.cache/function-archives`. */
  readonly cacheDir?: string;
  /** Build even when archives of the same sources exist. */
  readonly rebuild?: boolean;
  /** Told when a build starts (it type-checks the program: tens of seconds). */
  readonly onBuild?: (message: string) => void;
}

/** The App key in the configuration the archives are built with: a closure that captured it would show this line. */
export const ARCHIVE_BUILD_KEY = "-----BEGIN PRIVATE KEY-----\nARCHIVE-BUILD-PLACEHOLDER\n-----END PRIVATE KEY-----\n";

const PROJECT_ROOT = path.resolve(__dirname, "../../..");
const REGISTER = path.join(__dirname, "pulumiTypeScript.cjs");
const BUILDER = path.join(__dirname, "buildFunctionArchives.ts");

/** What the archives are made of: the program, its components and runtime, the builder, the packages and compiler settings. */
const SOURCES = [
  "index.ts",
  "components",
  "runtime",
  "local/platform/archives",
  "local/platform/runStack.ts",
  "local/platform/functionArchive.ts",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "Pulumi.yaml",
];

/**
 * The stack's function archives as `pulumi up` builds them — the program compiled by Pulumi's own TypeScript
 * registration in a separate Node process (never tsx), its callbacks serialized and bundled — cached by a hash of
 * their sources, so `npm test` and `npm start` build them once per change.
 */
export async function ensureFunctionArchives(options: EnsureArchivesOptions = {}): Promise<FunctionArchives> {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const cacheDir = options.cacheDir ?? path.join(projectRoot, ".cache", "function-archives");
  const dir = path.join(cacheDir, sourceFingerprint(projectRoot));
  if (options.rebuild || !fs.existsSync(path.join(dir, "manifest.json"))) {
    options.onBuild?.("building function archives as `pulumi up` does (Pulumi's ts-node, type-checked)…");
    await build(projectRoot, cacheDir, dir);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as ArchiveManifest;
  return {
    dir,
    manifest,
    codeDir(resourceName) {
      if (!manifest.functions[resourceName]) {
        const known = Object.keys(manifest.functions).join(", ");
        throw new Error(`no function archive for ${resourceName} (the stack declares: ${known})`);
      }
      return path.join(dir, resourceName);
    },
  };
}

/**
 * Function code taken from built archives (see `setFunctionCodeSource`): each function's unpacked archive, by its
 * resource name. The code does not depend on configuration (buildFunctionArchives.ts), so any stack of the same
 * sources gets exactly what serializing it would give.
 */
export function archivedFunctionCode(archives: FunctionArchives): FunctionCodeSource {
  return (functionName) => new pulumi.asset.FileArchive(archives.codeDir(functionName));
}

/** Builds into a private folder, then renames it into place: concurrent builders never see half an archive. */
async function build(projectRoot: string, cacheDir: string, dir: string): Promise<void> {
  fs.mkdirSync(cacheDir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(cacheDir, ".build-"));
  try {
    await new Promise<void>((resolve, reject) => {
      const env = { ...process.env };
      delete env.NODE_OPTIONS; // no loader of ours may reach the compile: only Pulumi's registration
      execFile(
        process.execPath,
        ["-r", REGISTER, BUILDER, scratch],
        { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`building the function archives failed:\n${stderr || error.message}`)) : resolve(),
      );
    });
    fs.chmodSync(scratch, 0o755); // mkdtemp's 0700 would hide the archives from other users' processes
    try {
      fs.renameSync(scratch, dir);
    } catch (error) {
      // Another process put the same archives in place first: theirs are as good.
      if (!fs.existsSync(path.join(dir, "manifest.json"))) throw error;
    }
    pruneOthers(cacheDir, path.basename(dir));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Archives of older sources are never used again. */
function pruneOthers(cacheDir: string, keep: string): void {
  for (const entry of fs.readdirSync(cacheDir)) {
    if (entry !== keep && !entry.startsWith(".build-")) {
      fs.rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
    }
  }
}

/** A hash of every source file the archives are built from (paths and contents). */
export function sourceFingerprint(projectRoot: string): string {
  const hash = createHash("sha256");
  const visit = (relative: string) => {
    const absolute = path.join(projectRoot, relative);
    const stat = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute).sort()) visit(path.join(relative, entry));
    } else {
      hash.update(relative).update("\0").update(fs.readFileSync(absolute)).update("\0");
    }
  };
  for (const source of SOURCES) visit(source);
  return hash.digest("hex").slice(0, 16);
}
