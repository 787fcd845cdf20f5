/** The stores in one import for handler factories: `import { DeploymentStore, InstallationStore } from "../deployments/store"`. */
export {
  DeploymentStore,
  type DeploymentStoreOptions,
  type DeploymentPage,
  type IdempotencyRequest,
} from "./deploymentStore";
export { InstallationStore, type InstallationStoreOptions } from "./installationStore";
