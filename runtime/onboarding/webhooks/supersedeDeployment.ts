import type { StatusReason } from "../../deployment";
import type { DeploymentStore } from "../../deployments/deploymentStore";

/** Where a push deployment is superseded: before its build exists, as `POST /deployments/{id}/cancel` cancels. */
export const SUPERSEDABLE = ["PENDING", "PROCESSING", "QUEUED"] as const;

/**
 * Ends a push deployment that a newer push replaced, while its build does not exist yet (PENDING, PROCESSING or
 * QUEUED): CANCELED with the reason, through the store's conditional transition (as every move is). The inspector's
 * move to BUILDING and the queue's start are conditional on PROCESSING/QUEUED, so no build starts for it afterwards;
 * one already BUILDING keeps going. True when it was canceled.
 */
export function createSupersede(
  deployments: Pick<DeploymentStore, "transition">,
  clock: () => Date = () => new Date(),
) {
  return async (id: string, reason: StatusReason): Promise<boolean> => {
    const now = clock().toISOString();
    const canceled = await deployments.transition(
      id,
      "CANCELED",
      { statusReason: reason, finishedAt: now },
      { from: SUPERSEDABLE },
    );
    return canceled !== undefined;
  };
}
