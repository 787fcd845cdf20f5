import type {
  ApiErrorBody,
  CreateDeploymentRequest,
  Deployment,
  DeploymentPage,
  InstallStart,
  LinkInstallationRequest,
  LogPage,
  ProjectRequest,
  PublicInstallation,
  PublicProject,
  RepositoryPage,
} from "./types";

/** An error the API answered with: its status, code, message and the field it names (when it names one). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The route itself is not there (API Gateway's own `{"message":"Not Found"}`), as opposed to a missing deployment. */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.code === "ROUTE_NOT_FOUND";
}

/** Turns a response body into an ApiError: the API's `{ error }` shape, or the gateway's `{ message }`. */
export function apiErrorOf(status: number, body: unknown): ApiError {
  const error = (body as Partial<ApiErrorBody> | undefined)?.error;
  if (error && typeof error.message === "string") {
    return new ApiError(status, error.code ?? "ERROR", error.message, error.field);
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  if (status === 404 && message === "Not Found") return new ApiError(404, "ROUTE_NOT_FOUND", "This API has no such route.");
  return new ApiError(status, `HTTP_${status}`, typeof message === "string" ? message : `The API answered ${status}.`);
}

export interface ApiClientOptions {
  readonly baseUrl: string;
  readonly token: () => string | undefined;
  /** Called on 401 (expired or missing token). */
  readonly onUnauthorized: () => void;
  readonly fetch?: typeof fetch;
}

/** Every call the dashboard makes to the HTTP API: one place for the token, errors and cancellation. */
export function createApiClient(options: ApiClientOptions) {
  const fetcher = options.fetch ?? fetch.bind(globalThis);

  async function request<T>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; empty?: boolean } = {},
  ): Promise<T> {
    const token = options.token();
    const response = await fetcher(`${options.baseUrl}${path}`, {
      method,
      headers: {
        accept: "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.status === 401) options.onUnauthorized();
    if (!response.ok) throw apiErrorOf(response.status, body);
    if (body === undefined && init.empty) return undefined as T;
    if (body === undefined) throw new ApiError(response.status, "NOT_JSON", `${method} ${path} answered without a JSON body.`);
    return body as T;
  }

  return {
    listDeployments: (cursor: string | undefined, signal?: AbortSignal) =>
      request<DeploymentPage>("GET", `/deployments?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
        ...(signal ? { signal } : {}),
      }),
    getDeployment: (id: string, signal?: AbortSignal) =>
      request<Deployment>("GET", `/deployments/${encodeURIComponent(id)}`, { ...(signal ? { signal } : {}) }),
    createDeployment: (body: CreateDeploymentRequest, idempotencyKey: string) =>
      request<Deployment>("POST", "/deployments", { body, headers: { "idempotency-key": idempotencyKey } }),
    getLogs: (id: string, cursor: string | undefined, signal?: AbortSignal) =>
      request<LogPage>(
        "GET",
        `/deployments/${encodeURIComponent(id)}/logs${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`,
        { ...(signal ? { signal } : {}) },
      ),
    cancelDeployment: (id: string) => request<Deployment>("POST", `/deployments/${encodeURIComponent(id)}/cancel`),
    listRepositories: (cursor: string | undefined, signal?: AbortSignal) =>
      request<RepositoryPage>("GET", `/repositories?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
        ...(signal ? { signal } : {}),
      }),
    startInstall: () => request<InstallStart>("GET", "/github/install"),
    linkInstallation: (body: LinkInstallationRequest) =>
      request<PublicInstallation>("POST", "/github/installations", { body }),
    listInstallations: (signal?: AbortSignal) =>
      request<{ installations: PublicInstallation[] }>("GET", "/github/installations", { ...(signal ? { signal } : {}) }),
    unlinkInstallation: (installationId: number) =>
      request<void>("DELETE", `/github/installations/${encodeURIComponent(String(installationId))}`, { empty: true }),
    listProjects: (signal?: AbortSignal) =>
      request<{ projects: PublicProject[] }>("GET", "/projects", { ...(signal ? { signal } : {}) }),
    putProject: (repository: string, body: ProjectRequest) =>
      request<PublicProject>("PUT", `/projects/${projectPath(repository)}`, { body }),
    deleteProject: (repository: string) =>
      request<void>("DELETE", `/projects/${projectPath(repository)}`, { empty: true }),
  };
}

/** owner/name as the path's two segments, each encoded (a name never holds a slash). */
export function projectPath(repository: string): string {
  return repository.split("/").map(encodeURIComponent).join("/");
}

export type ApiClient = ReturnType<typeof createApiClient>;
