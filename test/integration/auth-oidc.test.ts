import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuth, isAuthFailure, parseAuthSettings } from "../../src/auth/index.js";
import { makeCertificates, opensslAvailable } from "../support/tls.js";
import { signingKey, startTokenIssuer, type SigningKey, type TokenIssuer } from "../support/token-issuer.js";

// What Knative Eventing's broker filter sends with `authentication-oidc` enabled: a projected
// service-account token of the sender, for the audience the Trigger's subscriber names.
const AUDIENCE = "serving.knative.dev/service/default/counter";
const BROKER = "system:serviceaccount:knative-eventing:mt-broker-filter-oidc";
let issuer: TokenIssuer;
let key: SigningKey;
let dir: string;

function knativeClaims(sub = BROKER, aud = AUDIENCE) {
  return {
    sub,
    aud: [aud],
    "kubernetes.io": { namespace: "knative-eventing", serviceaccount: { name: sub.split(":").pop() } },
  };
}

beforeAll(async () => {
  issuer = await startTokenIssuer();
  key = await signingKey("k8s-sa-key");
  issuer.publish(key);
  dir = await mkdtemp(join(tmpdir(), "knstate-oidc-"));
});
afterAll(async () => {
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

async function eventsAuth(env: Record<string, string> = {}) {
  return (
    await createAuth(
      parseAuthSettings({
        KNSTATE_EVENTS_AUTH: "oidc",
        KNSTATE_OIDC_ISSUER: issuer.issuer,
        KNSTATE_OIDC_AUDIENCE: AUDIENCE,
        ...env,
      }),
    )
  ).events;
}

describe("Knative Eventing OIDC sender identity on the CloudEvents ingress", () => {
  it("finds the JWKS through the issuer's discovery document and accepts a broker's token", async () => {
    const events = await eventsAuth();
    const result = await events.authenticate({
      authorization: `Bearer ${await issuer.sign(key, knativeClaims())}`,
    });
    expect(result).toMatchObject({ kind: "oidc", subject: BROKER });
  });

  it("answers 401 with a Bearer challenge when the token is missing or for another audience", async () => {
    const events = await eventsAuth();
    expect(await events.authenticate({})).toMatchObject({
      status: 401,
      headers: { "www-authenticate": 'Bearer realm="knstate"' },
      problem: { type: "/problems/unauthorized", status: 401 },
    });
    const other = await issuer.sign(key, knativeClaims(BROKER, "serving.knative.dev/service/default/other"));
    expect(await events.authenticate({ authorization: `Bearer ${other}` })).toMatchObject({ status: 401 });
  });

  it("accepts only the senders KNSTATE_OIDC_ALLOWED_SUBJECTS names", async () => {
    const events = await eventsAuth({
      KNSTATE_OIDC_ALLOWED_SUBJECTS: "system:serviceaccount:knative-eventing:*",
    });
    const broker = await issuer.sign(key, knativeClaims());
    const stranger = await issuer.sign(key, knativeClaims("system:serviceaccount:team-b:default"));
    expect(isAuthFailure(await events.authenticate({ authorization: `Bearer ${broker}` }))).toBe(false);
    expect(await events.authenticate({ authorization: `Bearer ${stranger}` })).toMatchObject({ status: 401 });
  });

  it("authenticates its discovery and JWKS requests with a token file, as the API server requires", async () => {
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "pod-token\n");
    issuer.requireBearer("pod-token");
    try {
      const withToken = await eventsAuth({ KNSTATE_OIDC_TOKEN_FILE: tokenFile });
      const without = await eventsAuth();
      const token = await issuer.sign(key, knativeClaims());
      expect(await withToken.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({
        subject: BROKER,
      });
      // The issuer refuses the unauthenticated discovery: a retryable 503, not a 401 that drops the event.
      expect(await without.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({ status: 503 });
    } finally {
      issuer.requireBearer(undefined);
    }
  });

  it("uses KNSTATE_OIDC_JWKS_URL instead of discovery when set", async () => {
    const events = await eventsAuth({
      KNSTATE_OIDC_ISSUER: "https://kubernetes.default.svc",
      KNSTATE_OIDC_JWKS_URL: issuer.jwksUrl,
      KNSTATE_OIDC_CA_FILE: "",
      KNSTATE_OIDC_TOKEN_FILE: "",
    });
    const token = await issuer.sign(key, { ...knativeClaims(), iss: "https://kubernetes.default.svc" });
    expect(await events.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({
      subject: BROKER,
    });
  });

  it("refuses a discovery document that names another issuer (503, retried) ", async () => {
    const events = await eventsAuth({ KNSTATE_OIDC_ISSUER: `${issuer.issuer}/` });
    const token = await issuer.sign(key, { ...knativeClaims(), iss: `${issuer.issuer}/` });
    expect(await events.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({ status: 503 });
  });

  it.runIf(opensslAvailable("the OIDC tests over TLS"))(
    "trusts the issuer's TLS certificate only through KNSTATE_OIDC_CA_FILE, like the cluster CA",
    async () => {
      const certs = makeCertificates(dir);
      const tlsIssuer = await startTokenIssuer(certs);
      try {
        tlsIssuer.publish(key);
        const env = { KNSTATE_OIDC_ISSUER: tlsIssuer.issuer };
        const token = await tlsIssuer.sign(key, knativeClaims());
        const trusted = await eventsAuth({ ...env, KNSTATE_OIDC_CA_FILE: certs.ca });
        const wrongCa = await eventsAuth({ ...env, KNSTATE_OIDC_CA_FILE: certs.other });
        expect(await trusted.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({
          subject: BROKER,
        });
        expect(await wrongCa.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({
          status: 503,
        });
      } finally {
        await tlsIssuer.close();
      }
    },
  );
});
