/**
 * What the dashboard reads from `/config.json` at start: written at deploy time by the Dashboard component (AWS) and
 * on the fly by `npm start` (local), both from this type. Pure (no DOM), so the stack and the local platform can
 * import it too.
 */
export interface DashboardConfig {
  /** The HTTP API's base URL without a trailing slash; "" = the dashboard's own origin (local). */
  readonly apiUrl: string;
  /** The OpenID Connect issuer (the stack's `jwtIssuer`). */
  readonly issuer: string;
  /** The OAuth client id (one of the stack's `jwtAudience`). */
  readonly clientId: string;
  /** Default "openid". */
  readonly scope?: string;
  /** Set when the issuer has no discovery document the browser can read (the local issuer); else discovered. */
  readonly authorizationEndpoint?: string;
  readonly tokenEndpoint?: string;
}

const REQUIRED = ["apiUrl", "issuer", "clientId"] as const;
const OPTIONAL = ["scope", "authorizationEndpoint", "tokenEndpoint"] as const;

/** Checks a parsed config.json; the error names the field and what is expected there. */
export function parseDashboardConfig(value: unknown): DashboardConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("config.json must be a JSON object with apiUrl, issuer and clientId");
  }
  const record = value as Record<string, unknown>;
  for (const field of [...REQUIRED, ...OPTIONAL]) {
    const present = record[field] !== undefined;
    if ((present || (REQUIRED as readonly string[]).includes(field)) && typeof record[field] !== "string") {
      throw new Error(`config.json: ${field} must be a string`);
    }
  }
  if (record.apiUrl !== "" && !/^https?:\/\/[^/]+(\/.*[^/])?$/.test(record.apiUrl as string)) {
    throw new Error(`config.json: apiUrl must be "" or an http(s) URL without a trailing slash, got ${String(record.apiUrl)}`);
  }
  return record as unknown as DashboardConfig;
}
