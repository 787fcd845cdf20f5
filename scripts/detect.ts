/**
 * Prints the deployment plan Slipway would detect for a repository, as JSON on stdout (diagnostics on stderr).
 *
 *   npm run --silent detect -- <path> [--root-directory <folder>]
 *
 * Exit 0 with the plan; 2 when detection found no single app (the JSON then carries `reason` and `candidates`);
 * 1 on a usage or I/O error. Only the file system differs between a local folder and a GitHub commit: pass another
 * `createFileSystem` to `runDetectCli` to read `<owner>/<name>[@ref]` through the GitHub API.
 */
import { stat } from "fs/promises";
import { createLocalFileSystem, type RepoFileSystem } from "../runtime/detect/fileSystem";
import { candidatesOf, detectPlan } from "../runtime/detect/plan";
import { describeError, isPermanentError } from "../runtime/errors";

export interface DetectCliDependencies {
  /** Opens the repository the target names (a folder here; the lead adds `owner/name[@ref]`). */
  readonly createFileSystem: (target: string) => RepoFileSystem | Promise<RepoFileSystem>;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

const USAGE = "usage: detect <path> [--root-directory <folder>]";

export async function runDetectCli(argv: readonly string[], dependencies: DetectCliDependencies): Promise<number> {
  const stdout = dependencies.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = dependencies.stderr ?? ((text: string) => void process.stderr.write(text));
  const parsed = parseArguments(argv);
  if (typeof parsed === "string") {
    stderr(`${parsed}\n${USAGE}\n`);
    return 1;
  }
  let fileSystem: RepoFileSystem;
  try {
    fileSystem = await dependencies.createFileSystem(parsed.target);
  } catch (error) {
    stderr(`cannot open ${parsed.target}: ${describeError(error).message}\n`);
    return 1;
  }
  try {
    const plan = await detectPlan(
      fileSystem,
      parsed.rootDirectory === undefined ? {} : { rootDirectory: parsed.rootDirectory },
    );
    stdout(JSON.stringify(plan, null, 2) + "\n");
    return 0;
  } catch (error) {
    if (!isPermanentError(error)) {
      stderr(`detection failed: ${describeError(error).message}\n`);
      return 1;
    }
    const { code, message } = describeError(error);
    stdout(JSON.stringify({ reason: { code, message }, candidates: candidatesOf(error) ?? [] }, null, 2) + "\n");
    stderr(`${code}: ${message}\n`);
    return 2;
  } finally {
    const stats = (fileSystem as { stats?: () => { requests: number } }).stats?.();
    if (stats !== undefined) stderr(`requests: ${stats.requests}\n`);
  }
}

function parseArguments(argv: readonly string[]): { target: string; rootDirectory?: string } | string {
  let target: string | undefined;
  let rootDirectory: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--root-directory") {
      rootDirectory = argv[++i];
      if (rootDirectory === undefined) return "--root-directory needs a folder";
    } else if (arg.startsWith("--root-directory=")) {
      rootDirectory = arg.slice("--root-directory=".length);
    } else if (arg.startsWith("-")) {
      return `unknown option ${arg}`;
    } else if (target === undefined) {
      target = arg;
    } else {
      return `unexpected argument ${arg}`;
    }
  }
  if (target === undefined) return "missing <path>";
  return rootDirectory === undefined ? { target } : { target, rootDirectory };
}

/** The local backend: a folder on disk, which must exist. */
export async function openLocalFolder(path: string): Promise<RepoFileSystem> {
  const info = await stat(path);
  if (!info.isDirectory()) throw new Error(`${path} is not a folder`);
  return createLocalFileSystem(path);
}

if (require.main === module) {
  runDetectCli(process.argv.slice(2), { createFileSystem: openLocalFolder }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${describeError(error).message}\n`);
      process.exitCode = 1;
    },
  );
}
