import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuthConfigError,
  createApiKeyMatcher,
  createAuthenticator,
  parseAuthSettings,
  warnIfUnprotected,
} from "../../src/auth/index.js";

describe("auth settings from the environment", () => {
  it("is off on both surfaces by default, and production when running as a Knative Service", () => {
    const settings = parseAuthSettings({});
    expect(settings.api.mode).toBe("off");
    expect(settings.events.mode).toBe("off");
    expect(settings.production).toBe(false);
    expect(parseAuthSettings({ K_SERVICE: "counter" }).production).toBe(true);
    expect(parseAuthSettings({ NODE_ENV: "production" }).production).toBe(true);
  });

  it("reads the JWT settings with asymmetric algorithms and a 30 s skew by default", () => {
    const { api } = parseAuthSettings({
      KNSTATE_API_AUTH: "jwt",
      KNSTATE_JWT_JWKS_URL: "https://idp.example.com/jwks",
      KNSTATE_JWT_ISSUER: "https://idp.example.com/",
      KNSTATE_JWT_AUDIENCE: "a, b",
    });
    expect(api.mode === "jwt" && api.jwt).toMatchObject({
      issuer: "https://idp.example.com/",
      audience: ["a", "b"],
      clockSkewSeconds: 30,
      keys: { kind: "url", url: "https://idp.example.com/jwks" },
      jwksCooldownMs: 30_000,
      jwksMaxAgeMs: 600_000,
    });
    expect(api.mode === "jwt" && api.jwt.algorithms).toContain("ES256");
    expect(api.mode === "jwt" && api.jwt.algorithms).not.toContain("HS256");
  });

  it("lists every mistake at once, naming the variable", () => {
    let error: unknown;
    try {
      parseAuthSettings({
        KNSTATE_API_AUTH: "jwt",
        KNSTATE_JWT_ALGORITHMS: "HS256",
        KNSTATE_JWT_CLOCK_SKEW: "-1",
        KNSTATE_EVENTS_AUTH: "oidc",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthConfigError);
    const problems = (error as AuthConfigError).problems.join("\n");
    for (const name of [
      "KNSTATE_JWT_JWKS_URL",
      "KNSTATE_JWT_ISSUER",
      "KNSTATE_JWT_AUDIENCE",
      "HS256",
      "KNSTATE_JWT_CLOCK_SKEW",
      "KNSTATE_OIDC_AUDIENCE",
    ])
      expect(problems).toContain(name);
    expect(() => parseAuthSettings({ KNSTATE_API_AUTH: "basic" })).toThrow(
      /KNSTATE_API_AUTH must be one of off, jwt, api-key/,
    );
    expect(() => parseAuthSettings({ KNSTATE_API_AUTH: "api-key", KNSTATE_API_KEYS: "short" })).toThrow(
      /16 characters/,
    );
  });

  it("defaults the OIDC issuer to the cluster's and sends the pod's credentials only to the API server", () => {
    const inCluster = parseAuthSettings({ KNSTATE_EVENTS_AUTH: "oidc", KNSTATE_OIDC_AUDIENCE: "aud" }).events;
    expect(inCluster.mode === "oidc" && inCluster.jwt).toMatchObject({
      issuer: "https://kubernetes.default.svc.cluster.local",
      keys: { kind: "discovery" },
      caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
      fetchTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
    });
    const external = parseAuthSettings({
      KNSTATE_EVENTS_AUTH: "oidc",
      KNSTATE_OIDC_AUDIENCE: "aud",
      KNSTATE_OIDC_ISSUER: "https://oidc.eks.example.com/id/ABC",
    }).events;
    expect(external.mode === "oidc" && external.jwt.fetchTokenFile).toBeUndefined();
  });
});

describe("static API keys", () => {
  const key = "k3y-0123456789abcdef";
  it("accepts exactly the configured keys, named by a digest prefix", () => {
    const matcher = createApiKeyMatcher([key, "other-0123456789abcdef"]);
    const principal = matcher.match(key);
    expect(principal).toMatchObject({
      kind: "api-key",
      subject: expect.stringMatching(/^api-key:[0-9a-f]{12}$/) as unknown,
    });
    expect(JSON.stringify(principal)).not.toContain(key);
    expect(matcher.match(key + "x")).toBeUndefined();
    expect(matcher.match(key.slice(0, -1))).toBeUndefined();
    expect(matcher.match("")).toBeUndefined();
    expect(matcher.match("other-0123456789abcdef")?.subject).not.toBe(principal?.subject);
  });

  it("reads keys from a mounted Secret file and answers 401 to a wrong key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "knstate-keys-"));
    try {
      const file = join(dir, "keys");
      await writeFile(file, `# ops\n${key}\n\n`);
      const auth = await createAuthenticator(
        parseAuthSettings({ KNSTATE_API_AUTH: "api-key", KNSTATE_API_KEYS_FILE: file }).api,
      );
      expect(await auth.authenticate({ authorization: `Bearer ${key}` })).toMatchObject({ kind: "api-key" });
      expect(await auth.authenticate({ authorization: "Bearer wrong-0123456789abcdef" })).toMatchObject({
        status: 401,
        headers: { "www-authenticate": expect.stringContaining('error="invalid_token"') as unknown },
      });
      expect(await auth.authenticate({ authorization: ["Bearer a", "Bearer b"] })).toMatchObject({
        status: 401,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the production warning", () => {
  it("warns about each public surface served without authentication in production only", () => {
    const lines: string[] = [];
    const logger = { warn: (message: string) => void lines.push(message) };
    const serves = { api: true, events: true };
    expect(warnIfUnprotected(parseAuthSettings({}), serves, logger)).toEqual([]);
    expect(warnIfUnprotected(parseAuthSettings({ K_SERVICE: "counter" }), serves, logger)).toEqual([
      "api",
      "events",
    ]);
    expect(lines.join("\n")).toMatch(/KNSTATE_API_AUTH[\s\S]*KNSTATE_EVENTS_AUTH/);
    const keyed = parseAuthSettings({
      K_SERVICE: "c",
      KNSTATE_API_AUTH: "api-key",
      KNSTATE_API_KEYS: "k3y-0123456789abcdef",
    });
    expect(warnIfUnprotected(keyed, { api: true, events: false }, logger)).toEqual([]);
  });
});
