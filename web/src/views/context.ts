import type { ApiClient } from "../api";

/** What every page gets: the API client, navigation, and a way to tell a page it is being left. */
export interface PageContext {
  readonly api: ApiClient;
  navigate(path: string): void;
  /** Registers cleanup (stop polling) run when the page is left. */
  onLeave(cleanup: () => void): void;
}
