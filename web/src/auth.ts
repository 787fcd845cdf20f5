import * as oauth from "oauth4webapi";
import type { DashboardConfig } from "./dashboardConfig";

/*
 * Sign-in: OpenID Connect authorization code with PKCE (oauth4webapi) against the stack's issuer, in AWS and
 * locally alike (the local issuer's sign-in page lists the local users and answers the same code and token
 * requests). The access token is kept in sessionStorage: gone with the tab, never in a cookie the API would accept.
 */

const SESSION_KEY = "slipway.session";
const PENDING_KEY = "slipway.signIn";

export interface Session {
  readonly accessToken: string;
  /** The token's `sub`, shown as who is signed in. */
  readonly user: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export function currentSession(now = Date.now()): Session | undefined {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return undefined;
  const session = JSON.parse(raw) as Session;
  return session.expiresAt > now ? session : undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

function redirectUri(): string {
  return `${location.origin}/callback`;
}

/** Local endpoints are plain http on 127.0.0.1; everything else must be https (oauth4webapi's default). */
function requestOptions(config: DashboardConfig): { [oauth.allowInsecureRequests]?: boolean } {
  const local = /^http:\/\/(127\.0\.0\.1|localhost)(:|\/)/.test(config.tokenEndpoint ?? "");
  return local ? { [oauth.allowInsecureRequests]: true } : {};
}

async function authorizationServer(config: DashboardConfig): Promise<oauth.AuthorizationServer> {
  if (config.authorizationEndpoint && config.tokenEndpoint) {
    return {
      issuer: config.issuer,
      authorization_endpoint: config.authorizationEndpoint,
      token_endpoint: config.tokenEndpoint,
    };
  }
  const issuer = new URL(config.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc" }));
}

/** Sends the browser to the issuer's sign-in page; `returnTo` is where to land afterwards. */
export async function beginSignIn(config: DashboardConfig, returnTo: string): Promise<void> {
  const as = await authorizationServer(config);
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ codeVerifier, state, returnTo }));
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    response_type: "code",
    scope: config.scope ?? "openid",
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
  }).toString();
  location.assign(url.href);
}

/** On /callback: checks state, redeems the code with the PKCE verifier, keeps the access token. Returns `returnTo`. */
export async function completeSignIn(config: DashboardConfig, callbackUrl: URL, now = Date.now()): Promise<string> {
  const pending = sessionStorage.getItem(PENDING_KEY);
  if (!pending) throw new Error("This sign-in was not started in this tab; sign in again.");
  sessionStorage.removeItem(PENDING_KEY);
  const { codeVerifier, state, returnTo } = JSON.parse(pending) as { codeVerifier: string; state: string; returnTo: string };
  const as = await authorizationServer(config);
  const client: oauth.Client = { client_id: config.clientId };
  const parameters = oauth.validateAuthResponse(as, client, callbackUrl, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    parameters,
    redirectUri(),
    codeVerifier,
    requestOptions(config),
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  const claims = JSON.parse(atob(tokens.access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
    sub?: string;
    username?: string;
  };
  const session: Session = {
    accessToken: tokens.access_token,
    user: claims.username ?? claims.sub ?? "you",
    expiresAt: now + (tokens.expires_in ?? 3600) * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/";
}
