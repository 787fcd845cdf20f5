import { PUBLIC_FIELDS, type Deployment } from "../deployment";

export type PublicDeployment = Pick<Deployment, (typeof PUBLIC_FIELDS)[number]>;

/** A deployment as the API shows it: only PUBLIC_FIELDS, so internal bookkeeping (and userId) never leaves. */
export function toPublicDeployment(deployment: Deployment): PublicDeployment {
  const shown: Record<string, unknown> = {};
  for (const field of PUBLIC_FIELDS) {
    if (deployment[field] !== undefined) shown[field] = deployment[field];
  }
  return shown as PublicDeployment;
}
