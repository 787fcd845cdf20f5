import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from "jose";

/**
 * The JWT authorizer of an API Gateway HTTP API, over jose. As AWS documents it
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html): the token comes from
 * the Authorization header ("Bearer " optional); the issuer's public keys come from its OpenID discovery document
 * (`<issuer>/.well-known/openid-configuration`) and the `jwks_uri` it names; the token must be signed with RSA
 * (RS256, RS384, RS512) by one of them; `iss` must equal the issuer; `aud`, or `client_id` when there is no `aud`,
 * one of the audiences; `exp` after now; `nbf` and `iat` before it (60 s of clock skew allowed for those two).
 */
export interface JwtAuthorizerConfig {
  /** The `iss` every token must carry, exactly; the keys are discovered from it. */
  readonly issuer: string;
  /** Accepted `aud` values (or `client_id`, when a token has no `aud`). */
  readonly audiences: readonly string[];
  /** How the authorizer reaches the issuer. Default: fetch (the local platform reaches its local issuer). */
  readonly fetch?: typeof fetch;
}

export type JwtVerification =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>>; readonly scopes: string[] | null }
  /** `description` is what the `www-authenticate` header tells the caller; absent when no token was sent. */
  | { readonly ok: false; readonly description?: string };

const ALGORITHMS = ["RS256", "RS384", "RS512"];

const UNREACHABLE = "the issuer's keys could not be fetched";

/** Clocks drift: `nbf` and `iat` may be this far in the future. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * What the caller is told, by jose's error code. None of it repeats the token's own text: a header value built from
 * request input could carry characters no header may hold.
 */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  [errors.JOSEAlgNotAllowed.code]: "the token's signing method is not RS256, RS384 or RS512",
  [errors.JWSSignatureVerificationFailed.code]: "the token signature is invalid",
  [errors.JWKSNoMatchingKey.code]: "the token is not signed by a key of the issuer",
  [errors.JWKSMultipleMatchingKeys.code]: "the token is not signed by a key of the issuer",
  [errors.JWTExpired.code]: "the token has expired",
  [errors.JWKSTimeout.code]: UNREACHABLE,
  [errors.JWKSInvalid.code]: UNREACHABLE,
};

/** jose's claim failures, by claim. */
const CLAIM_DESCRIPTIONS: Readonly<Record<string, string>> = {
  iss: "the token does not have a valid issuer",
  exp: "the token has expired",
  nbf: "the token is not valid yet",
};

/**
 * Builds the authorizer. The issuer's keys are discovered on the first request and kept (jose refetches the JWKS
 * when a token names a key it does not hold); a failed discovery is retried on the next request.
 */
export function createJwtVerifier(
  config: JwtAuthorizerConfig,
): (authorization: string | undefined, nowMs: number) => Promise<JwtVerification> {
  const fetchImpl = config.fetch ?? fetch;
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const discover = async () => {
    const base = config.issuer.endsWith("/") ? config.issuer : `${config.issuer}/`;
    const response = await fetchImpl(`${base}.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`the issuer's discovery document answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0, section 4.3: the document's issuer is the one it was fetched for.
    if (document.issuer !== config.issuer) throw new Error("the discovery document names another issuer");
    if (typeof document.jwks_uri !== "string") throw new Error("the discovery document has no jwks_uri");
    // jose waits 5 s for the JWKS by default; a busy machine running the whole platform can take longer.
    return createRemoteJWKSet(new URL(document.jwks_uri), { [customFetch]: fetchImpl, timeoutDuration: 30_000 });
  };

  type Checked =
    | { readonly ok: true; readonly claims: JWTPayload }
    | { readonly ok: false; readonly description: string; readonly reached: boolean };
  const verifyWithKeys = async (token: string, nowMs: number): Promise<Checked> => {
    let jwks;
    try {
      jwks = await (keys ??= discover());
    } catch {
      keys = undefined;
      return { ok: false, description: UNREACHABLE, reached: false };
    }
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        algorithms: ALGORITHMS,
        requiredClaims: ["exp"],
        currentDate: new Date(nowMs),
        clockTolerance: CLOCK_SKEW_SECONDS,
      });
      return { ok: true, claims: payload };
    } catch (error) {
      const description = describe(error);
      return { ok: false, description, reached: description !== UNREACHABLE };
    }
  };

  return async (authorization, nowMs) => {
    const token = authorization?.trim().replace(/^bearer\s+/i, "");
    if (!token) return { ok: false };
    if (token.split(".").length !== 3)
      return { ok: false, description: "token contains an invalid number of segments" };
    // One retry when the issuer could not be reached (a connection reset, say): its keys are kept once fetched.
    let verdict = await verifyWithKeys(token, nowMs);
    if (!verdict.ok && !verdict.reached) verdict = await verifyWithKeys(token, nowMs);
    if (!verdict.ok) return { ok: false, description: verdict.description };
    const claims = verdict.claims;
    const seconds = nowMs / 1000;
    // jose allows the same skew on `exp`; API Gateway's token has expired once `exp` has passed.
    if (typeof claims.exp !== "number" || claims.exp <= seconds) {
      return { ok: false, description: "the token has expired" };
    }
    if (claims.iat !== undefined && claims.iat > seconds + CLOCK_SKEW_SECONDS) {
      return { ok: false, description: "the token was issued in the future" };
    }
    const audiences = claims.aud !== undefined ? claims.aud : claims.client_id;
    const offered = (Array.isArray(audiences) ? audiences : [audiences]).filter(
      (audience): audience is string => typeof audience === "string",
    );
    if (!offered.some((audience) => config.audiences.includes(audience))) {
      return { ok: false, description: "the token does not have a valid audience" };
    }
    return { ok: true, claims, scopes: scopesOf(claims) };
  };
}

function describe(error: unknown): string {
  const { code, claim } = (error ?? {}) as { code?: unknown; claim?: unknown };
  // Not jose's: the JWKS request itself failed.
  if (typeof code !== "string" || !code.startsWith("ERR_J")) return UNREACHABLE;
  if (typeof claim === "string") return CLAIM_DESCRIPTIONS[claim] ?? "the token is malformed";
  return DESCRIPTIONS[code] ?? "the token is malformed";
}

/** OAuth scopes: `scope` (space-separated, RFC 8693) or `scp` (string or array, as some issuers send); else null. */
function scopesOf(claims: Record<string, unknown>): string[] | null {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  if (Array.isArray(raw)) return raw.map(String);
  return null;
}
