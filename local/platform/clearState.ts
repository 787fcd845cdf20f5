import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What `npm start -- --fresh` keeps: the local issuer's signing key, so tokens minted before (`npm run token`, a
 * front end's session) stay valid, as a real identity provider's keys outlive a redeployment of the backend.
 */
export const KEPT_ACROSS_FRESH = ["issuer-key.pem"] as const;

/** Empties the state folder except the kept files; returns the kept files that were there. */
export function clearState(stateDir: string): string[] {
  if (!fs.existsSync(stateDir)) return [];
  const kept: string[] = [];
  for (const entry of fs.readdirSync(stateDir)) {
    if ((KEPT_ACROSS_FRESH as readonly string[]).includes(entry)) kept.push(entry);
    else fs.rmSync(path.join(stateDir, entry), { recursive: true, force: true });
  }
  return kept;
}
