import { createPublicKey, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import http from "node:http";
import * as path from "node:path";
import { SignJWT, calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from "jose";

/**
 * The local platform's stand-in for the front end's identity provider (a Cognito user pool in AWS): one RSA key
 * pair kept in the state folder, tokens minted with it (jose), and the key published the way an OpenID Connect
 * issuer publishes it: `<issuer>/.well-known/openid-configuration` naming a `jwks_uri`
 * (https://openid.net/specs/openid-connect-discovery-1_0.html, sections 3 and 4), which the local HTTP API's JWT
 * authorizer fetches as API Gateway's does. The stack is run with `jwtIssuer` = LOCAL_ISSUER and `jwtAudience` =
 * [LOCAL_AUDIENCE]; the issuer's name stays the same across restarts (so do minted tokens), and this machine reaches
 * it at the issuer server's address (`issuerFetch`), as DNS and TLS would reach a real one.
 */
export const LOCAL_ISSUER = "https://slipway.local/";
export const LOCAL_AUDIENCE = "slipway-local";

/** The only algorithm the local issuer signs with; the authorizer accepts RS256, RS384 and RS512. */
const ALGORITHM = "RS256";

export interface IssuerKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  /** RFC 7638 thumbprint of the public key: the `kid` of every token and of the key in the JWKS. */
  readonly kid: string;
  /** The public key as the JWKS lists it (`kid`, `alg`, `use`). */
  readonly publicJwk: JWK;
}

const KEY_FILE = "issuer-key.pem";

/**
 * The issuer's key pair from `<stateDir>/issuer-key.pem`, created (RSA 2048, owner-only mode 0600) on first use.
 * Creation is atomic: the key is written to a private temporary file and linked into place, so two processes
 * starting together agree on one key and neither ever reads half a file.
 */
export async function loadOrCreateIssuerKey(stateDir: string): Promise<IssuerKey> {
  const file = path.join(stateDir, KEY_FILE);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(ALGORITHM, { modulusLength: 2048, extractable: true });
    const temporary = path.join(stateDir, `.${KEY_FILE}.${process.pid}.${randomUUID()}`);
    fs.writeFileSync(temporary, await exportPKCS8(privateKey), { mode: 0o600, flag: "wx" });
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }
  const privateKeyPem = fs.readFileSync(file, "utf8");
  let jwk: JWK;
  try {
    jwk = await exportJWK(await importPKCS8(privateKeyPem, ALGORITHM, { extractable: true }));
  } catch (error) {
    throw new Error(`${file} is not a PEM private key (${(error as Error).message}); delete it to make a new one`);
  }
  const publicJwk: JWK = { kty: jwk.kty, n: jwk.n, e: jwk.e };
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    privateKeyPem,
    publicKeyPem: createPublicKey(privateKeyPem).export({ type: "spki", format: "pem" }).toString(),
    kid,
    publicJwk: { ...publicJwk, kid, alg: ALGORITHM, use: "sig" },
  };
}

export interface MintTokenOptions {
  readonly privateKeyPem: string;
  /** The user id. */
  readonly sub: string;
  /** Default LOCAL_ISSUER. */
  readonly issuer?: string;
  /** Default LOCAL_AUDIENCE. */
  readonly audience?: string;
  /** Default 3600. */
  readonly expiresInSeconds?: number;
  /** Milliseconds since the epoch. Default Date.now. */
  readonly now?: () => number;
}

/** A compact JWS (RS256, with `kid`) carrying `iss`, `sub`, `aud`, `iat`, `nbf`, `exp`, `jti`. */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  if (!options.sub) throw new Error("mintToken needs a sub (the user id)");
  const privateKey = await importPKCS8(options.privateKeyPem, ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e }, "sha256");
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT", kid })
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setSubject(options.sub)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + (options.expiresInSeconds ?? 3600))
    .setJti(randomUUID())
    .sign(privateKey);
}

/** The issuer's OpenID Provider Metadata and its JWKS, as `startLocalIssuer` serves them. */
export function issuerDocuments(
  key: IssuerKey,
  issuer = LOCAL_ISSUER,
): { readonly discovery: Record<string, unknown>; readonly jwks: { keys: JWK[] } } {
  const base = issuer.endsWith("/") ? issuer : `${issuer}/`;
  return {
    discovery: {
      issuer,
      jwks_uri: `${base}.well-known/jwks.json`,
      // Tokens come from `npm run token`, not from an authorization endpoint: the local issuer only signs.
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: [ALGORITHM],
      claims_supported: ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"],
    },
    jwks: { keys: [key.publicJwk] },
  };
}

export interface LocalIssuer {
  /** The issuer's name, the tokens' `iss`. */
  readonly issuer: string;
  /** Where the issuer server listens (http://127.0.0.1:<port>). */
  readonly url: string;
  /**
   * `fetch` for the authorizer: requests to the issuer's origin go to the issuer server (there is no DNS or TLS for
   * slipway.local on this machine), everything else goes out as it is.
   */
  readonly issuerFetch: typeof fetch;
  close(): Promise<void>;
}

/** Serves the issuer's discovery document and JWKS on 127.0.0.1 (`port` 0: a free one). */
export async function startLocalIssuer(options: {
  readonly key: IssuerKey;
  readonly issuer?: string;
  readonly port?: number;
}): Promise<LocalIssuer> {
  const issuer = options.issuer ?? LOCAL_ISSUER;
  const { discovery, jwks } = issuerDocuments(options.key, issuer);
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, "");
  const documents: Record<string, unknown> = {
    [`${issuerPath}/.well-known/openid-configuration`]: discovery,
    [`${issuerPath}/.well-known/jwks.json`]: jwks,
  };
  const server = http.createServer((request, response) => {
    const document = request.method === "GET" ? documents[(request.url ?? "/").split("?")[0]!] : undefined;
    const body = JSON.stringify(document ?? { error: "not_found" });
    response.writeHead(document ? 200 : 404, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "cache-control": "max-age=300",
    });
    response.end(body);
  });
  // Clients close idle connections first (fetch after 4 s), so the server never closes one under a new request.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const origin = new URL(issuer).origin;
  const issuerFetch: typeof fetch = (input, init) => {
    const target = input instanceof Request ? input.url : String(input);
    return fetch(target.startsWith(origin) ? url + target.slice(origin.length) : input, init);
  };
  return {
    issuer,
    url,
    issuerFetch,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
