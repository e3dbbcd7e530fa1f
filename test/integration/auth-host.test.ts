import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionDirs } from "../support/function-dir.js";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { signingKey, startTokenIssuer, type SigningKey, type TokenIssuer } from "../support/token-issuer.js";

// A running `knstate serve` with both surfaces protected: JWTs of an identity provider on the
// HTTP API, Knative Eventing's OIDC sender tokens on POST /, and an entity rule on top.
const API_AUDIENCE = "https://carts.example.com";
const EVENTS_AUDIENCE = "serving.knative.dev/service/default/carts";
const BROKER = "system:serviceaccount:knative-eventing:mt-broker-filter-oidc";

const CART = `
import { defineEntity } from "knstate";
export default defineEntity({
  name: "cart",
  typePrefix: "com.example",
  initialState: () => ({ items: [] }),
  // Only the owner (the cart id is the user id) or the broker may change a cart; carts named
  // locked-* refuse everyone; anyone authenticated may read.
  authorize: (caller, request) =>
    !request.entityId.startsWith("locked") &&
    (request.kind === "read" ||
      caller?.subject === request.entityId ||
      (caller?.subject ?? "").startsWith("system:serviceaccount:knative-eventing:")),
  commands: {
    add: (_cart, item, ctx) => [
      { type: "added", data: { item, by: ctx.caller?.subject ?? null, tenant: ctx.caller?.claims.tenant ?? null } },
    ],
  },
  events: {
    added: (cart, e) => ({ items: [...cart.items, e.item], by: e.by, tenant: e.tenant }),
  },
  reply: (cart) => cart,
});
`;

let issuer: TokenIssuer;
let rsa: SigningKey;
let ec: SigningKey;
let host: HostProcess;
let dirs: Awaited<ReturnType<typeof functionDirs>>;
const tokens: string[] = [];

async function sign(key: SigningKey, claims: Record<string, unknown>): Promise<string> {
  const token = await issuer.sign(key, { aud: API_AUDIENCE, ...claims });
  tokens.push(token);
  return token;
}

function api(path: string, token?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${host.url}${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
  });
}

async function expectRefused(res: Response, status: 401 | 403, detail?: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as { type: string; status: number; detail: string };
  expect(body).toMatchObject({
    type: status === 401 ? "/problems/unauthorized" : "/problems/forbidden",
    status,
  });
  if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="knstate"/);
  if (detail !== undefined) expect(body.detail).toContain(detail);
}

beforeAll(async () => {
  issuer = await startTokenIssuer();
  rsa = await signingKey("rsa-1", "RS256");
  ec = await signingKey("ec-1", "ES256");
  issuer.publish(rsa, ec);
  dirs = await functionDirs();
  host = await spawnHost({
    functions: [await dirs.write("cart", CART)],
    env: {
      KNSTATE_LOG_LEVEL: "debug",
      KNSTATE_API_AUTH: "jwt",
      KNSTATE_JWT_JWKS_URL: issuer.jwksUrl,
      KNSTATE_JWT_ISSUER: issuer.issuer,
      KNSTATE_JWT_AUDIENCE: API_AUDIENCE,
      KNSTATE_JWT_JWKS_COOLDOWN: "0",
      KNSTATE_EVENTS_AUTH: "oidc",
      KNSTATE_OIDC_ISSUER: issuer.issuer,
      KNSTATE_OIDC_JWKS_URL: issuer.jwksUrl,
      KNSTATE_OIDC_AUDIENCE: EVENTS_AUDIENCE,
      KNSTATE_OIDC_JWKS_COOLDOWN: "0",
    },
  });
});
afterAll(async () => {
  await host?.stop();
  await issuer?.close();
  await dirs?.remove();
});

describe("the HTTP API with KNSTATE_API_AUTH=jwt, through a running host", () => {
  it("answers probes without a token", async () => {
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
  });

  it("refuses a request without a token, before reading its body", async () => {
    const res = await api("/cart/alice/add", undefined, { method: "POST", body: '"apple"' });
    await expectRefused(res, 401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="knstate"');
    await expectRefused(await api("/cart/alice"), 401);
  });

  it("refuses expired, wrong-audience, wrong-issuer, badly signed and alg:none tokens with 401", async () => {
    const impostor = { ...(await signingKey("rsa-1")), kid: "rsa-1" };
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string]> = [
      [await sign(rsa, { sub: "alice", exp: now - 120 }), "expired"],
      [await sign(rsa, { sub: "alice", aud: "https://other.example.com" }), '"aud"'],
      [await sign(rsa, { sub: "alice", iss: "https://evil.example.com" }), '"iss"'],
      [await sign(impostor, { sub: "alice" }), "signature"],
      [
        `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: "alice", aud: API_AUDIENCE, iss: issuer.issuer, exp: now + 60 })}.`,
        "",
      ],
    ];
    for (const [token, detail] of cases) {
      const res = await api("/cart/alice/add", token, { method: "POST", body: '"apple"' });
      await expectRefused(res, 401, detail);
      expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    }
    const state = (await (await api("/cart/alice", await sign(rsa, { sub: "alice" }))).json()) as {
      version: number;
    };
    expect(state.version).toBe(0);
  });

  it("serves a valid RS256 or ES256 token, and the handler sees the caller's subject and claims", async () => {
    const res = await api("/cart/alice/add", await sign(rsa, { sub: "alice", tenant: "t-1" }), {
      method: "POST",
      body: '"apple"',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: ["apple"], by: "alice", tenant: "t-1" });
    const again = await api("/cart/alice/add", await sign(ec, { sub: "alice" }), {
      method: "POST",
      body: '"pear"',
    });
    expect(await again.json()).toMatchObject({ items: ["apple", "pear"], by: "alice" });
  });

  it("answers 403 for a command the entity's rule denies, and stores nothing", async () => {
    const alice = await sign(rsa, { sub: "alice" });
    await expectRefused(await api("/cart/bob/add", alice, { method: "POST", body: '"apple"' }), 403);
    await expectRefused(await api("/cart/locked-1", alice), 403);
    const bob = (await (await api("/cart/bob", alice)).json()) as { state: unknown; version: number };
    expect(bob).toEqual({ state: { items: [] }, version: 0 });
  });

  it("accepts a key rotated into the JWKS without a restart and refuses the removed one", async () => {
    const old = await sign(rsa, { sub: "alice" });
    expect((await api("/cart/alice", old)).status).toBe(200);
    const next = await signingKey("rsa-2", "RS256");
    issuer.publish(next, ec);
    const fresh = await sign(next, { sub: "alice" });
    expect((await api("/cart/alice", fresh)).status).toBe(200);
    await expectRefused(await api("/cart/alice", old), 401);
    issuer.publish(rsa, ec);
  });

  it("does not serve the event history on the public port", async () => {
    const res = await api("/cart/alice/events", await sign(rsa, { sub: "alice" }));
    expect(res.status).not.toBe(200);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("the CloudEvents ingress with KNSTATE_EVENTS_AUTH=oidc (Knative-shaped tokens)", () => {
  async function knative(claims: Record<string, unknown> = {}): Promise<string> {
    const token = await issuer.sign(rsa, {
      sub: BROKER,
      aud: [EVENTS_AUDIENCE],
      "kubernetes.io": { namespace: "knative-eventing", serviceaccount: { name: "mt-broker-filter-oidc" } },
      ...claims,
    });
    tokens.push(token);
    return token;
  }
  const add = (subject: string, id: string, token?: string) =>
    postEvent(
      `${host.url}/`,
      { id, type: "com.example.cart.add", subject, data: "plum" },
      token === undefined ? {} : { authorization: `Bearer ${token}` },
    );

  it("refuses an event without a token or with another audience, issuer or an expired token: 401", async () => {
    await expectRefused(await add("carol", "e0"), 401);
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      await knative({ aud: ["serving.knative.dev/service/default/other"] }),
      await knative({ iss: "https://kubernetes.default.svc" }),
      await knative({ exp: now - 120 }),
    ]) {
      const res = await add("carol", "e1", token);
      await expectRefused(res, 401);
      expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    }
  });

  it("runs the command of a verified sender, whose identity reaches the handler", async () => {
    const res = await add("carol", "e2", await knative());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: ["plum"], by: BROKER, tenant: null });
  });

  it("answers 403 when the entity's rule denies the sender, and stores nothing", async () => {
    await expectRefused(await add("locked-2", "e3", await knative()), 403);
    const read = await api("/cart/carol", await sign(rsa, { sub: "carol" }));
    expect(((await read.json()) as { version: number }).version).toBe(1);
  });
});

describe("logs", () => {
  it("never contain a token, while they do record the refusals", () => {
    const output = host.output();
    expect(output).toContain("request refused");
    expect(tokens.length).toBeGreaterThan(10);
    for (const token of tokens) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.split(".")[2]);
    }
  });
});

describe("KNSTATE_API_AUTH=api-key in production mode", () => {
  it("accepts the key, refuses others, warns about the open ingress and logs no key", async () => {
    const key = "k3y-for-the-tests-0123456789";
    const proc = await spawnHost({
      functions: ["counter"],
      env: {
        KNSTATE_API_AUTH: "api-key",
        KNSTATE_API_KEYS: key,
        NODE_ENV: "production",
        KNSTATE_LOG_LEVEL: "debug",
      },
    });
    try {
      const call = (bearer: string) =>
        fetch(`${proc.url}/counter/c1/increment`, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: "{}",
        });
      await expectRefused(await call("wrong-key-wrong-key-1234"), 401);
      expect((await call(key)).status).toBe(200);
      const output = proc.output();
      expect(output).toContain("KNSTATE_EVENTS_AUTH");
      expect(output).not.toContain(key);
      expect(output).not.toContain("wrong-key-wrong-key-1234");
    } finally {
      await proc.stop();
    }
  });
});
