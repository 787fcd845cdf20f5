/** Why the plan says what it says: a file (repository-relative), the line when one decided it, and the reason. */
export interface Evidence {
  readonly file: string;
  readonly line?: number;
  readonly reason: string;
}

export function evidence(file: string, reason: string, line?: number): Evidence {
  return line === undefined ? { file, reason } : { file, line, reason };
}
