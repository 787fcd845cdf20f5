import { createPublicKey, verify, type KeyObject } from "node:crypto";

export type AppJwtCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** GitHub's words for each way an App JWT fails; @octokit/auth-app recognises the clock ones and corrects its clock. */
export const JWT_MESSAGES = {
  undecodable: "A JSON web token could not be decoded",
  issuer: "'Issuer' claim ('iss') must be an Integer",
  issuedAt: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
  expired:
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  tooLong: "'Expiration time' claim ('exp') is too far in the future",
} as const;

/** GitHub allows App JWTs to live ten minutes at most. */
export const MAX_JWT_LIFETIME_SECONDS = 600;
/** How far in the future `iat` may be before GitHub calls the client's clock wrong. */
export const ALLOWED_CLOCK_DRIFT_SECONDS = 60;

export interface AppJwtVerifier {
  verify(token: string, nowSeconds: number): AppJwtCheck;
}

/** Verifies RS256 App JWTs the way GitHub does: signature by the App's public key, `iss` = App id, lifetime rules. */
export function createAppJwtVerifier(appId: string | number, publicKey: string | KeyObject): AppJwtVerifier {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const expectedIssuer = String(appId);
  return {
    verify(token, nowSeconds) {
      const fail = (message: string): AppJwtCheck => ({ ok: false, message });
      const parts = token.split(".");
      if (parts.length !== 3) return fail(JWT_MESSAGES.undecodable);
      const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
      const header = decodeJson(encodedHeader);
      const payload = decodeJson(encodedPayload);
      if (!header || !payload || header.alg !== "RS256") return fail(JWT_MESSAGES.undecodable);
      const signed = verify(
        "RSA-SHA256",
        Buffer.from(`${encodedHeader}.${encodedPayload}`),
        key,
        Buffer.from(encodedSignature, "base64url"),
      );
      if (!signed) return fail(JWT_MESSAGES.undecodable);

      const issuer = payload.iss;
      if ((typeof issuer !== "number" && typeof issuer !== "string") || !/^\d+$/.test(String(issuer))) {
        return fail(JWT_MESSAGES.issuer);
      }
      if (String(issuer) !== expectedIssuer) return fail(JWT_MESSAGES.undecodable);
      const { iat, exp } = payload;
      if (typeof iat !== "number" || !Number.isInteger(iat) || iat > nowSeconds + ALLOWED_CLOCK_DRIFT_SECONDS) {
        return fail(JWT_MESSAGES.issuedAt);
      }
      if (typeof exp !== "number" || exp <= nowSeconds) return fail(JWT_MESSAGES.expired);
      if (exp - iat > MAX_JWT_LIFETIME_SECONDS) return fail(JWT_MESSAGES.tooLong);
      return { ok: true };
    },
  };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
