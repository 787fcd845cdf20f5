import type { Deployment } from "../deployment";
import { NotFoundError } from "../errors";

/** Deployment ids are crypto.randomUUID() output; anything else cannot exist, so it is not looked up. */
export const DEPLOYMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The caller's deployment named by the route's `{id}`. Someone else's, a missing one and a malformed id get the very
 * same 404, so ids cannot be probed for existence. Consistent: a client acting right after its POST must find it.
 */
export async function callersDeployment(
  deployments: { get(id: string, options?: { consistent?: boolean }): Promise<Deployment | undefined> },
  id: string | undefined,
  userId: string,
): Promise<Deployment> {
  const deployment = id && DEPLOYMENT_ID.test(id) ? await deployments.get(id, { consistent: true }) : undefined;
  if (!deployment || deployment.userId !== userId) {
    throw new NotFoundError(
      "DEPLOYMENT_NOT_FOUND",
      "You have no deployment with this id. GET /deployments lists yours.",
    );
  }
  return deployment;
}
