import type { DeploymentStore } from "../deployments/deploymentStore";
import type { Logger } from "../log";

/** What the API routes need from outside; handler factories build the real ones, tests pass their own. */
export interface ApiDependencies {
  readonly deployments: Pick<DeploymentStore, "create" | "get" | "listByUser">;
  readonly logger: Logger;
  /** Default: the system clock. */
  readonly clock?: () => Date;
  /** Default: crypto.randomUUID. */
  readonly randomUUID?: () => string;
}
