import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The local platform's stand-in for the front end's identity provider (a Cognito user pool in AWS): one RSA key
 * pair kept in the state folder, tokens minted with it, and the HTTP API's JWT authorizer configured with its
 * public half. The stack is run with `jwtIssuer` = LOCAL_ISSUER and `jwtAudience` = [LOCAL_AUDIENCE].
 */
export const LOCAL_ISSUER = "https://slipway.local/";
export const LOCAL_AUDIENCE = "slipway-local";

export interface IssuerKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  /** RFC 7638 thumbprint of the public key: the `kid` of every token. */
  readonly kid: string;
}

const KEY_FILE = "issuer-key.pem";

/**
 * The issuer's key pair from `<stateDir>/issuer-key.pem`, created (RSA 2048, owner-only mode 0600) on first use.
 * Creation is atomic: the key is written to a private temporary file and linked into place, so two processes
 * starting together agree on one key and neither ever reads half a file.
 */
export function loadOrCreateIssuerKey(stateDir: string): IssuerKey {
  const file = path.join(stateDir, KEY_FILE);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const temporary = path.join(stateDir, `.${KEY_FILE}.${process.pid}.${randomUUID()}`);
    fs.writeFileSync(temporary, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }
  const privateKeyPem = fs.readFileSync(file, "utf8");
  let publicKeyPem: string;
  try {
    publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
  } catch (error) {
    throw new Error(`${file} is not a PEM private key (${(error as Error).message}); delete it to make a new one`);
  }
  return { privateKeyPem, publicKeyPem, kid: keyId(publicKeyPem) };
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
export function mintToken(options: MintTokenOptions): string {
  if (!options.sub) throw new Error("mintToken needs a sub (the user id)");
  const privateKey = createPrivateKey(options.privateKeyPem);
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const header = {
    alg: "RS256",
    typ: "JWT",
    kid: keyId(createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString()),
  };
  const claims = {
    iss: options.issuer ?? LOCAL_ISSUER,
    sub: options.sub,
    aud: options.audience ?? LOCAL_AUDIENCE,
    iat,
    nbf: iat,
    exp: iat + (options.expiresInSeconds ?? 3600),
    jti: randomUUID(),
  };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  return `${signingInput}.${sign("sha256", Buffer.from(signingInput), privateKey).toString("base64url")}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** RFC 7638: SHA-256 over the JWK's required members in lexicographic order (`e`, `kty`, `n` for RSA). */
function keyId(publicKeyPem: string): string {
  const jwk = createPublicKey(publicKeyPem).export({ format: "jwk" });
  return createHash("sha256")
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest("base64url");
}
