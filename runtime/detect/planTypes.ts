import type { Builder } from "../builders";
import type { PlanCandidate } from "./detectionError";
import type { Evidence } from "./evidence";
import type { FrameworkId } from "./frameworks";

export type Language =
  "javascript" | "typescript" | "java" | "kotlin" | "python" | "go" | "rust" | "ruby" | "php" | "html" | "unknown";

/**
 * Versions as the repository declares them ("^20", ">=3.11", "17"); only the ones it declares. (A type, not an
 * interface, so that it fits a plain `Record<string, string | undefined>` where callers want one.)
 */
export type DeclaredVersions = {
  node?: string;
  java?: string;
  python?: string;
  go?: string;
  ruby?: string;
  php?: string;
  rust?: string;
};

/** What Slipway builds and how: the answer of `detectPlan`. */
export interface DeploymentPlan {
  /** null only when a Dockerfile is all there is and its base image names no stack Slipway knows. */
  readonly framework: FrameworkId | null;
  readonly builder: Builder;
  /** The folder the app deploys from, relative to the repository root; "" for the root. */
  readonly rootDirectory: string;
  readonly language: Language;
  /** npm, pnpm, yarn, bun; pip, uv, poetry, pdm, pipenv; bundler; composer. */
  readonly packageManager?: string;
  /** maven, gradle; go, cargo. */
  readonly buildTool?: string;
  readonly version?: DeclaredVersions;
  readonly installCommand?: string;
  readonly buildCommand?: string;
  readonly startCommand?: string;
  /** Where a static build's files end up, relative to `rootDirectory`. */
  readonly outputDirectory?: string;
  /** The files and lines that decided the plan, most important first. */
  readonly evidence: readonly Evidence[];
  /** Other answers that were possible, when the answer was not unique. */
  readonly candidates?: readonly PlanCandidate[];
}
