import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAuthenticator,
  isAuthFailure,
  parseAuthSettings,
  type Authenticator,
} from "../../src/auth/index.js";
import { signingKey, startTokenIssuer, type SigningKey, type TokenIssuer } from "../support/token-issuer.js";

const AUDIENCE = "https://api.example.com";
let issuer: TokenIssuer;
let rsa: SigningKey;
let ec: SigningKey;
let auth: Authenticator;
let edge: Server;
let edgeUrl: string;

/** A minimal edge over real HTTP: authenticate, then answer 200 with the subject or the refusal. */
function serve(authenticator: () => Authenticator): Promise<Server> {
  const server = createServer((req, res) => {
    void authenticator()
      .authenticate(req.headers)
      .then((result) => {
        if (isAuthFailure(result)) {
          res.writeHead(result.status, { "content-type": "application/problem+json", ...result.headers });
          res.end(JSON.stringify(result.problem));
        } else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
      });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function call(token: string | undefined, scheme = "Bearer") {
  const res = await fetch(
    edgeUrl,
    token === undefined ? {} : { headers: { authorization: `${scheme} ${token}` } },
  );
  return {
    status: res.status,
    challenge: res.headers.get("www-authenticate"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

function jwtSettings(extra: Record<string, string> = {}) {
  return parseAuthSettings({
    KNSTATE_API_AUTH: "jwt",
    KNSTATE_JWT_JWKS_URL: issuer.jwksUrl,
    KNSTATE_JWT_ISSUER: issuer.issuer,
    KNSTATE_JWT_AUDIENCE: AUDIENCE,
    KNSTATE_JWT_JWKS_COOLDOWN: "0",
    ...extra,
  }).api;
}

beforeAll(async () => {
  issuer = await startTokenIssuer();
  rsa = await signingKey("rsa-1", "RS256");
  ec = await signingKey("ec-1", "ES256");
  issuer.publish(rsa, ec);
  auth = await createAuthenticator(jwtSettings());
  edge = await serve(() => auth);
  edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  edge?.closeAllConnections();
  await new Promise((resolve) => edge?.close(resolve));
  await issuer?.close();
});

describe("bearer JWTs verified against a JWKS", () => {
  it("serves a valid RS256 or ES256 token and hands over its subject, scopes and claims", async () => {
    for (const key of [rsa, ec]) {
      const token = await issuer.sign(key, {
        sub: "user-1",
        aud: AUDIENCE,
        scope: "cart:write cart:read",
        tenant: "acme",
      });
      const { status, body } = await call(token);
      expect(status).toBe(200);
      expect(body).toMatchObject({ kind: "jwt", subject: "user-1", scopes: ["cart:write", "cart:read"] });
      expect(body["claims"]).toMatchObject({ tenant: "acme" });
    }
  });

  it("answers a request without a token with 401, a bare Bearer challenge and a problem", async () => {
    const { status, challenge, body } = await call(undefined);
    expect(status).toBe(401);
    expect(challenge).toBe('Bearer realm="knstate"');
    expect(body).toMatchObject({ type: "/problems/unauthorized", status: 401, title: "Unauthorized" });
  });

  it("refuses expired, wrong-audience, wrong-issuer and badly signed tokens with invalid_token", async () => {
    const impostor = { ...(await signingKey("rsa-1")), kid: "rsa-1" };
    const cases: Array<[string, string]> = [
      [
        await issuer.sign(rsa, { sub: "u", aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) - 120 }),
        "expired",
      ],
      [await issuer.sign(rsa, { sub: "u", aud: "https://other.example.com" }), '"aud"'],
      [await issuer.sign(rsa, { sub: "u", aud: AUDIENCE, iss: "https://evil.example.com" }), '"iss"'],
      [await issuer.sign(impostor, { sub: "u", aud: AUDIENCE }), "signature"],
      ["not-a-jwt", "not a valid"],
    ];
    for (const [token, detail] of cases) {
      const { status, challenge, body } = await call(token);
      expect(status).toBe(401);
      expect(challenge).toMatch(/^Bearer realm="knstate", error="invalid_token"/);
      expect(String(body["detail"])).toContain(detail);
    }
  });

  it("accepts a token expired within the allowed clock skew", async () => {
    const token = await issuer.sign(rsa, { sub: "u", aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) - 5 });
    expect((await call(token)).status).toBe(200);
  });

  it("refuses alg none, HMAC tokens and tokens without exp", async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = { sub: "u", aud: AUDIENCE, iss: issuer.issuer, exp: Math.floor(Date.now() / 1000) + 60 };
    const none = `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
    const secret = new TextEncoder().encode(JSON.stringify(rsa.jwk));
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).sign(secret);
    const noExp = await new SignJWT({ sub: "u", aud: AUDIENCE, iss: issuer.issuer })
      .setProtectedHeader({ alg: "RS256", kid: "rsa-1" })
      .sign(rsa.privateKey);
    for (const token of [none, hmac, noExp]) expect((await call(token)).status).toBe(401);
  });

  it("refuses other schemes and never echoes the credentials", async () => {
    const token = await issuer.sign(rsa, { sub: "u", aud: "https://other.example.com" });
    const basic = await call("dXNlcjpwYXNz", "Basic");
    expect(basic.status).toBe(401);
    const refused = await auth.authenticate({ authorization: `Bearer ${token}` });
    expect(isAuthFailure(refused)).toBe(true);
    expect(JSON.stringify(refused)).not.toContain(token.split(".")[2]);
  });

  it("picks up a rotated key without a restart and then refuses tokens of the retired key", async () => {
    const oldToken = await issuer.sign(rsa, { sub: "u", aud: AUDIENCE });
    expect((await call(oldToken)).status).toBe(200);
    const next = await signingKey("rsa-2");
    issuer.publish(next, ec);
    const fetches = issuer.jwksFetches;
    expect((await call(await issuer.sign(next, { sub: "u", aud: AUDIENCE }))).status).toBe(200);
    expect(issuer.jwksFetches).toBeGreaterThan(fetches);
    expect((await call(oldToken)).status).toBe(401);
    issuer.publish(rsa, ec);
  });

  it("answers 503 with Retry-After while the JWKS cannot be fetched, and recovers", async () => {
    const fresh = await createAuthenticator(jwtSettings());
    issuer.failWith(500);
    const token = await issuer.sign(rsa, { sub: "u", aud: AUDIENCE });
    const down = await fresh.authenticate({ authorization: `Bearer ${token}` });
    expect(down).toMatchObject({ status: 503, headers: { "retry-after": "5" } });
    issuer.failWith(0);
    expect(await fresh.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({ subject: "u" });
  });

  it("verifies against a local JWKS file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "knstate-jwks-"));
    try {
      const file = join(dir, "jwks.json");
      await writeFile(file, JSON.stringify({ keys: [ec.jwk] }));
      const local = await createAuthenticator(
        jwtSettings({ KNSTATE_JWT_JWKS_URL: "", KNSTATE_JWT_JWKS_FILE: file }),
      );
      const fetches = issuer.jwksFetches;
      expect(
        await local.authenticate({
          authorization: `Bearer ${await issuer.sign(ec, { sub: "f", aud: AUDIENCE })}`,
        }),
      ).toMatchObject({ subject: "f" });
      expect(
        isAuthFailure(
          await local.authenticate({
            authorization: `Bearer ${await issuer.sign(rsa, { sub: "f", aud: AUDIENCE })}`,
          }),
        ),
      ).toBe(true);
      expect(issuer.jwksFetches).toBe(fetches);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
