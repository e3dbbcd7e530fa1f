#!/usr/bin/env node
// The cost of authentication per request on the HTTP API's counter (Redis), side by side in one
// run: no auth, JWT with the cache of verified tokens (the default), and JWT verified at every
// request (KNSTATE_JWT_CACHE_MAX_AGE=0). Every variant gets the same RS256 bearer token from
// wrk; `off` ignores it. Usage: `node bench/auth-cost.mjs [scenario]`
// (default `http`); AB_ROUNDS and AB_SECONDS as for bench/ab.mjs, which runs the variants.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "knstate-auth-bench-"));
try {
  const jwks = join(dir, "jwks.json");
  const minted = spawnSync(process.execPath, [join(here, "jwt-token.mjs"), jwks], { encoding: "utf8" });
  if (minted.status !== 0) throw new Error(`bench/jwt-token.mjs failed: ${minted.stderr}`);
  const token = minted.stdout.trim();
  const jwt = `KNSTATE_API_AUTH=jwt,KNSTATE_JWT_JWKS_FILE=${jwks},KNSTATE_JWT_ISSUER=https://bench.example,KNSTATE_JWT_AUDIENCE=https://bench.example/api`;
  const variants = ["off", `jwt-cached:${jwt}`, `jwt-uncached:${jwt},KNSTATE_JWT_CACHE_MAX_AGE=0`];
  const run = spawnSync(process.execPath, [join(here, "ab.mjs"), process.argv[2] ?? "http", ...variants], {
    stdio: "inherit",
    env: { ...process.env, BENCH_AUTH: token },
  });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
