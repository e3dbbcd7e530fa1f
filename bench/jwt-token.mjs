#!/usr/bin/env node
// A signing key for benchmarks of KNSTATE_API_AUTH=jwt: writes its JWKS to the file named by the
// first argument and prints one RS256 token (valid for an hour) for issuer https://bench.example
// and audience https://bench.example/api. Usage:
//   BENCH_AUTH=$(node bench/jwt-token.mjs /tmp/jwks.json) node bench/ab.mjs http off \
//     jwt:KNSTATE_API_AUTH=jwt,KNSTATE_JWT_JWKS_FILE=/tmp/jwks.json,KNSTATE_JWT_ISSUER=https://bench.example,KNSTATE_JWT_AUDIENCE=https://bench.example/api
import { writeFileSync } from "node:fs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const file = process.argv[2] ?? "jwks.json";
const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
writeFileSync(
  file,
  JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256" }] }),
);
const token = await new SignJWT({ sub: "bench-user", scope: "counter:write" })
  .setProtectedHeader({ alg: "RS256", kid: "bench" })
  .setIssuer("https://bench.example")
  .setAudience("https://bench.example/api")
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(privateKey);
process.stdout.write(token);
