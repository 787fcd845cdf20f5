import { PermanentError } from "../errors";
import type { FrameworkId } from "./frameworks";

/** Another answer detection could have given: a folder and what it holds. */
export interface PlanCandidate {
  readonly rootDirectory: string;
  readonly framework: FrameworkId | null;
}

/**
 * Detection could not pick an app (`AMBIGUOUS_ROOT`, `NO_FRAMEWORK`, `ROOT_DIRECTORY_NOT_FOUND`). A PermanentError
 * (`kind: "permanent"`): the deployment ends FAILED with this message. `candidates` lists the folders a person can
 * choose from with `rootDirectory`; read it with `candidatesOf`, which does not depend on `instanceof`.
 */
export class DetectionError extends PermanentError {
  readonly candidates: readonly PlanCandidate[];
  constructor(code: string, message: string, candidates: readonly PlanCandidate[] = []) {
    super(code, message);
    this.name = "DetectionError";
    this.candidates = candidates;
  }
}

/** The candidates a detection error carries, or undefined for any other value. */
export function candidatesOf(error: unknown): readonly PlanCandidate[] | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const candidates = (error as { candidates?: unknown }).candidates;
  return Array.isArray(candidates) ? (candidates as PlanCandidate[]) : undefined;
}
