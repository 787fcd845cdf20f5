import type { CreateDeploymentRequest } from "./types";

/** The body a form's values make: empty optional fields are left out, as the API's defaults apply then. */
export function deploymentRequest(values: Readonly<Record<string, string>>): CreateDeploymentRequest {
  const ref = values.ref?.trim();
  const rootDirectory = values.rootDirectory?.trim();
  return {
    repository: (values.repository ?? "").trim(),
    ...(ref ? { ref } : {}),
    ...(rootDirectory ? { rootDirectory } : {}),
  };
}

/**
 * Idempotency-Key per intent: the same body keeps its key, so a double click or a retry after a network failure makes
 * one deployment; a changed body (another intent) gets a new key.
 */
export function createKeyKeeper(newKey: () => string = () => crypto.randomUUID()) {
  let last: { body: string; key: string } | undefined;
  return {
    keyFor(request: CreateDeploymentRequest): string {
      const body = JSON.stringify(request);
      if (last?.body !== body) last = { body, key: newKey() };
      return last.key;
    },
    /** After a deployment was made: the next click is a new intent, even with the same values. */
    reset() {
      last = undefined;
    },
  };
}
