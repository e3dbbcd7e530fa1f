#!/usr/bin/env node
// The CPU one request's authentication costs, without HTTP around it: `node bench/auth-verify.mjs`.
// Runs `authenticate(headers)` of the built host's authenticator AUTH_VERIFY_COUNT (20,000)
// times, 64 at a time, in turns: off, API key, JWT with the cache of verified tokens (the
// default) and JWT verified every time (KNSTATE_JWT_CACHE_MAX_AGE=0), all with the same RS256
// token. Prints the median CPU µs per request of each over AUTH_VERIFY_ROUNDS (5) rounds.
// Steadier than a run under load; `node bench/auth-cost.mjs` tells what it is worth to a server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const S = await import("./lib/servers.mjs");
const { fmt, median } = await import("./lib/stats.mjs");
const { createAuthenticator, parseAuthSettings } = await import(
  pathToFileURL(join(S.ROOT, "dist/src/auth/index.js")).href
);

const count = Number(process.env.AUTH_VERIFY_COUNT ?? 20_000);
const rounds = Number(process.env.AUTH_VERIFY_ROUNDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), "knstate-auth-verify-"));
try {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = join(dir, "jwks.json");
  writeFileSync(
    jwks,
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k", alg: "RS256" }] }),
  );
  const token = await new SignJWT({ sub: "bench-user" })
    .setProtectedHeader({ alg: "RS256", kid: "k" })
    .setIssuer("https://bench.example")
    .setAudience("https://bench.example/api")
    .setExpirationTime("1h")
    .sign(privateKey);
  const apiKey = "bench-api-key-0123456789";
  const jwt = {
    KNSTATE_API_AUTH: "jwt",
    KNSTATE_JWT_JWKS_FILE: jwks,
    KNSTATE_JWT_ISSUER: "https://bench.example",
    KNSTATE_JWT_AUDIENCE: "https://bench.example/api",
  };
  const variants = [
    ["off", { KNSTATE_API_AUTH: "off" }, token],
    ["api-key", { KNSTATE_API_AUTH: "api-key", KNSTATE_API_KEYS: apiKey }, apiKey],
    ["jwt-cached", jwt, token],
    ["jwt-uncached", { ...jwt, KNSTATE_JWT_CACHE_MAX_AGE: "0" }, token],
  ];
  const runs = new Map(variants.map(([name]) => [name, []]));
  const auths = await Promise.all(variants.map(([, env]) => createAuthenticator(parseAuthSettings(env).api)));
  for (let r = 0; r < rounds; r++) {
    for (const [i, [name, , credential]] of variants.entries()) {
      const headers = { authorization: `Bearer ${credential}` };
      const before = process.cpuUsage();
      for (let done = 0; done < count; done += 64) {
        const batch = [];
        for (let j = 0; j < 64; j++) batch.push(auths[i].authenticate(headers));
        for (const result of await Promise.all(batch))
          if (result.kind === "failure") throw new Error(`${name}: ${result.reason}`);
      }
      const used = process.cpuUsage(before);
      runs.get(name).push((used.user + used.system) / count);
    }
  }
  const base = median(runs.get("off"));
  for (const [name, values] of runs) {
    const cpu = median(values);
    process.stdout.write(
      `${name.padEnd(14)} ${fmt(cpu, 2).padStart(7)} µs/request  (+${fmt(cpu - base, 2)} over off)  [${values.map((v) => fmt(v, 2)).join(" ")}]\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
