import { createHash, randomBytes } from "node:crypto";
import type { GatewayResponse } from "./httpApi/gatewayResponse";
import { LOCAL_AUDIENCE, mintToken } from "./localIssuer";

/*
 * The local issuer's sign-in: the authorization code flow with PKCE that the dashboard runs against Cognito or any
 * OpenID Connect provider in AWS, answered here without passwords.
 * - GET  /local-issuer/authorize: RFC 6749 §4.1.1 + RFC 7636 §4.3 parameters; a page listing the local users.
 * - POST /local-issuer/authorize: the chosen user; redirects to redirect_uri with `code` and `state` (§4.1.2).
 * - POST /local-issuer/token: grant_type=authorization_code with code_verifier (§4.1.3, RFC 7636 §4.5-4.6); answers
 *   the same RS256 token `npm run token` mints, as `access_token` (§5.1), or an RFC 6749 §5.2 error.
 * Like a real provider it checks the client id, the registered redirect origins, S256 only (plain is refused, as
 * Cognito refuses it), single-use codes that expire (60 s here; RFC 6749 §4.1.2 recommends at most 10 minutes).
 */

export const LOCAL_SIGN_IN_PATHS = { authorize: "/local-issuer/authorize", token: "/local-issuer/token" } as const;
const CODE_LIFETIME_MS = 60_000;

export interface LocalSignInOptions {
  readonly privateKeyPem: string;
  /** The users the page offers (the repositories' owners). */
  readonly users: () => readonly string[];
  /** Origins a redirect_uri may have (the dashboard's). */
  readonly redirectOrigins: () => readonly string[];
  readonly clientId?: string;
  /** Milliseconds since the epoch. Default Date.now. */
  readonly now?: () => number;
}

interface IssuedCode {
  readonly user: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
}

export interface SignInRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly form: URLSearchParams;
}

/** The handler for the two paths; undefined for any other path. */
export function createLocalSignIn(
  options: LocalSignInOptions,
): (request: SignInRequest) => Promise<GatewayResponse | undefined> {
  const clientId = options.clientId ?? LOCAL_AUDIENCE;
  const now = options.now ?? Date.now;
  const codes = new Map<string, IssuedCode>();

  function authorizationError(params: URLSearchParams): string | undefined {
    if (params.get("client_id") !== clientId) return `client_id must be ${clientId}`;
    const redirectUri = params.get("redirect_uri") ?? "";
    let origin: string;
    try {
      origin = new URL(redirectUri).origin;
    } catch {
      return "redirect_uri must be an absolute URL";
    }
    if (!options.redirectOrigins().includes(origin)) {
      return `redirect_uri's origin ${origin} is not registered (registered: ${options.redirectOrigins().join(", ")})`;
    }
    if (params.get("response_type") !== "code") return "response_type must be code";
    if (params.get("code_challenge_method") !== "S256") return "code_challenge_method must be S256 (PKCE is required)";
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.get("code_challenge") ?? ""))
      return "code_challenge must be a base64url SHA-256";
    return undefined;
  }

  return async (request) => {
    if (request.path === LOCAL_SIGN_IN_PATHS.authorize && request.method === "GET") {
      const problem = authorizationError(request.query);
      if (problem) return html(400, page("Sign-in request refused", `<p role="alert">${escape(problem)}</p>`));
      return html(200, signInPage(request.query, options.users()));
    }
    if (request.path === LOCAL_SIGN_IN_PATHS.authorize && request.method === "POST") {
      const problem = authorizationError(request.form);
      const user = (request.form.get("user") ?? "").trim();
      if (problem) return html(400, page("Sign-in request refused", `<p role="alert">${escape(problem)}</p>`));
      if (!/^[\x21-\x7e]{1,128}$/.test(user)) {
        return html(
          400,
          signInPage(request.form, options.users(), "A user id is 1–128 printable characters without spaces."),
        );
      }
      const code = randomBytes(24).toString("base64url");
      const redirectUri = request.form.get("redirect_uri")!;
      codes.set(code, {
        user,
        clientId,
        redirectUri,
        codeChallenge: request.form.get("code_challenge")!,
        expiresAt: now() + CODE_LIFETIME_MS,
      });
      const target = new URL(redirectUri);
      target.searchParams.set("code", code);
      const state = request.form.get("state");
      if (state !== null) target.searchParams.set("state", state);
      return {
        status: 302,
        headers: { location: target.href, "cache-control": "no-store" },
        cookies: [],
        body: Buffer.alloc(0),
      };
    }
    if (request.path === LOCAL_SIGN_IN_PATHS.token && request.method === "POST") {
      const form = request.form;
      if (form.get("grant_type") !== "authorization_code")
        return tokenError("unsupported_grant_type", "grant_type must be authorization_code");
      const code = form.get("code") ?? "";
      const issued = codes.get(code);
      codes.delete(code); // single use, even when the exchange fails
      if (!issued || issued.expiresAt < now())
        return tokenError("invalid_grant", "the code is unknown, used or expired");
      if (form.get("client_id") !== issued.clientId)
        return tokenError("invalid_client", "client_id does not match the code's");
      if (form.get("redirect_uri") !== issued.redirectUri)
        return tokenError("invalid_grant", "redirect_uri does not match the code's");
      const verifier = form.get("code_verifier") ?? "";
      if (createHash("sha256").update(verifier).digest("base64url") !== issued.codeChallenge) {
        return tokenError("invalid_grant", "code_verifier does not match the code_challenge");
      }
      const expiresInSeconds = 3600;
      const accessToken = await mintToken({
        privateKeyPem: options.privateKeyPem,
        sub: issued.user,
        expiresInSeconds,
        now,
      });
      return json(200, { access_token: accessToken, token_type: "Bearer", expires_in: expiresInSeconds });
    }
    return undefined;
  };
}

function signInPage(params: URLSearchParams, users: readonly string[], problem?: string): string {
  const hidden = [
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
  ]
    .filter((name) => params.get(name) !== null)
    .map((name) => `<input type="hidden" name="${name}" value="${escape(params.get(name)!)}">`)
    .join("");
  const buttons = users
    .map(
      (user) =>
        `<li><button type="submit" name="user" value="${escape(user)}">Sign in as ${escape(user)}</button></li>`,
    )
    .join("");
  return page(
    "Sign in to Slipway (local)",
    `<p>The local issuer has no passwords: choose a user. Each owner under the repositories folder is one user.</p>
${problem ? `<p role="alert">${escape(problem)}</p>` : ""}
<form method="post" action="${LOCAL_SIGN_IN_PATHS.authorize}">${hidden}
<ul>${buttons}</ul>
</form>
<form method="post" action="${LOCAL_SIGN_IN_PATHS.authorize}">${hidden}
<label for="other-user">Another user id</label> <input id="other-user" name="user" autocomplete="off">
<button type="submit">Sign in</button>
</form>`,
  );
}

function page(title: string, content: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
ul{list-style:none;padding:0}li{margin:.5rem 0}button{font:inherit;padding:.5rem 1rem;min-height:2.5rem}
input{font:inherit;padding:.4rem}</style></head><body><main><h1>${escape(title)}</h1>${content}</main></body></html>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(status: number, body: string): GatewayResponse {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    cookies: [],
    body: Buffer.from(body),
  };
}

function json(status: number, body: unknown): GatewayResponse {
  return {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", pragma: "no-cache" },
    cookies: [],
    body: Buffer.from(JSON.stringify(body)),
  };
}

function tokenError(error: string, description: string): GatewayResponse {
  return json(error === "invalid_client" ? 401 : 400, { error, error_description: description });
}
