import { createPublicKey, verify, type KeyObject } from "node:crypto";

export interface JwtAuthorizerConfig {
  /** The `iss` every token must carry, exactly. */
  readonly issuer: string;
  /** Accepted `aud` values (or `client_id`, when a token has no `aud`). */
  readonly audiences: readonly string[];
  /** The issuer's RSA public key (PEM): what the authorizer would find in the issuer's JWKS. */
  readonly publicKeyPem: string;
}

export type JwtVerification =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>>; readonly scopes: string[] | null }
  /** `description` is what the `www-authenticate` header tells the caller; absent when no token was sent. */
  | { readonly ok: false; readonly description?: string };

/** The RSA algorithms API Gateway's JWT authorizer accepts, and the digest each signs with. */
const RSA_DIGESTS: Readonly<Record<string, string>> = { RS256: "sha256", RS384: "sha384", RS512: "sha512" };

/**
 * The JWA names (RFC 7518 §3.1, RFC 8037) the challenge may repeat, as API Gateway does ("signing method HS256 is
 * invalid"). Any other `alg` is the caller's own text: it is never copied into the `www-authenticate` header, where a
 * CR/LF or a character above Latin-1 would make Node refuse to write the response (issue 8, finding 1).
 */
const KNOWN_ALGORITHMS: readonly string[] = [
  "none",
  ...["HS", "RS", "ES", "PS"].flatMap((family) => ["256", "384", "512"].map((bits) => family + bits)),
  "EdDSA",
];

/** Clocks drift: `nbf` and `iat` may be this far in the future. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * Builds the JWT authorizer of an API Gateway HTTP API over one issuer key: bearer token from the Authorization
 * header (the "Bearer " prefix is optional, as there), RSA signature, then `iss`, `aud` (or `client_id`), `exp`,
 * `nbf` and `iat`. The key is parsed once, here, so a bad PEM fails at start rather than on each request.
 */
export function createJwtVerifier(
  config: JwtAuthorizerConfig,
): (authorization: string | undefined, nowMs: number) => JwtVerification {
  const key = createPublicKey(config.publicKeyPem);
  return (authorization, nowMs) => verifyJwt(authorization, config, key, nowMs);
}

function verifyJwt(
  authorization: string | undefined,
  config: JwtAuthorizerConfig,
  key: KeyObject,
  nowMs: number,
): JwtVerification {
  const token = authorization?.trim().replace(/^bearer\s+/i, "");
  if (!token) return { ok: false };
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, description: "token contains an invalid number of segments" };
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader);
  const claims = decodeJson(encodedPayload);
  if (!header || !claims) return { ok: false, description: "the token is malformed" };
  const digest = typeof header.alg === "string" ? RSA_DIGESTS[header.alg] : undefined;
  if (!digest) {
    const named = typeof header.alg === "string" && KNOWN_ALGORITHMS.includes(header.alg) ? `${header.alg} ` : "";
    return { ok: false, description: `signing method ${named}is invalid` };
  }
  if (!signatureValid(digest, `${encodedHeader}.${encodedPayload}`, key, encodedSignature))
    return { ok: false, description: "the token signature is invalid" };

  const now = nowMs / 1000;
  if (claims.iss !== config.issuer) return { ok: false, description: "the token does not have a valid issuer" };
  const audiences = claims.aud !== undefined ? claims.aud : claims.client_id;
  const offered = (Array.isArray(audiences) ? audiences : [audiences]).filter(
    (a): a is string => typeof a === "string",
  );
  if (!offered.some((audience) => config.audiences.includes(audience))) {
    return { ok: false, description: "the token does not have a valid audience" };
  }
  if (typeof claims.exp !== "number" || claims.exp <= now) return { ok: false, description: "the token has expired" };
  if (claims.nbf !== undefined && !(typeof claims.nbf === "number" && claims.nbf <= now + CLOCK_SKEW_SECONDS)) {
    return { ok: false, description: "the token is not valid yet" };
  }
  if (claims.iat !== undefined && !(typeof claims.iat === "number" && claims.iat <= now + CLOCK_SKEW_SECONDS)) {
    return { ok: false, description: "the token was issued in the future" };
  }
  return { ok: true, claims, scopes: scopesOf(claims) };
}

/** OAuth scopes: `scope` (space-separated, RFC 8693) or `scp` (string or array, as some issuers send); else null. */
function scopesOf(claims: Record<string, unknown>): string[] | null {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  if (Array.isArray(raw)) return raw.map(String);
  return null;
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function signatureValid(digest: string, signingInput: string, key: KeyObject, signature: string): boolean {
  try {
    return verify(digest, Buffer.from(signingInput), key, Buffer.from(signature, "base64url"));
  } catch {
    return false; // a signature of the wrong size, say: not valid, not a server error
  }
}
