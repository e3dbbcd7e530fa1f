import { readFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export interface SigningKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg: "RS256" | "ES256" = "RS256"): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/**
 * A real OpenID provider on loopback: a discovery document and a JWKS whose keys a test can
 * rotate, and a count of JWKS fetches. Its issuer is its own base URL.
 */
export interface TokenIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly jwksFetches: number;
  /** Replaces the published keys (the private keys stay with the test). */
  publish(...keys: SigningKey[]): void;
  /** Answers every request with this status from now on (0 restores normal answers). */
  failWith(status: number): void;
  /** Refuses (401) requests without `Authorization: Bearer <token>`, as the Kubernetes API server does. */
  requireBearer(token: string | undefined): void;
  sign(key: SigningKey, claims: JWTPayload, options?: { expiresIn?: string | number }): Promise<string>;
  close(): Promise<void>;
}

/** `tls`: PEM files of a server certificate for 127.0.0.1, to serve https like the API server. */
export async function startTokenIssuer(tls?: { cert: string; key: string }): Promise<TokenIssuer> {
  let keys: SigningKey[] = [];
  let fetches = 0;
  let failure = 0;
  let required: string | undefined;
  let base = "";
  const handler: RequestListener = (req, res) => {
    if (failure !== 0 || (required !== undefined && req.headers.authorization !== `Bearer ${required}`)) {
      res.writeHead(failure || 401).end();
      return;
    }
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/openid/v1/jwks` }));
    } else if (req.url === "/openid/v1/jwks") {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    } else res.writeHead(404).end();
  };
  const server: Server =
    tls === undefined
      ? createServer(handler)
      : createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `${tls === undefined ? "http" : "https"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUrl: `${base}/openid/v1/jwks`,
    get jwksFetches() {
      return fetches;
    },
    publish(...next) {
      keys = next;
    },
    failWith(status) {
      failure = status;
    },
    requireBearer(token) {
      required = token;
    },
    sign(key, claims, options = {}) {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
        .setIssuedAt();
      if (claims.iss === undefined) jwt.setIssuer(base);
      if (claims.exp === undefined) jwt.setExpirationTime(options.expiresIn ?? "5m");
      return jwt.sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
