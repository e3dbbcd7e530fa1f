import { readFile } from "node:fs/promises";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import { unauthorized, unavailable, type AuthFailure } from "./failure.js";
import { createKeyFetch, discoverJwksUri, type KeyFetch } from "./key-fetch.js";
import { principalFromClaims, type Principal, type PrincipalKind } from "./principal.js";
import type { JwtSettings } from "./settings.js";

/** Verifies one bearer token: a principal, or the refusal to answer with. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal | AuthFailure>;
  /**
   * A number that changes whenever keys were fetched again (absent: the keys never change). A
   * cache of verified tokens drops what it verified under another number.
   */
  readonly keysGeneration?: () => number;
}

/**
 * A verifier for signed JWTs: signature by a key of the configured JWKS (fetched, cached for
 * `jwksMaxAgeMs`, fetched again when a token names an unknown `kid`, at most once per
 * `jwksCooldownMs`, so a rotated key is picked up without a restart), then `iss`, `aud`, `exp`
 * and `nbf` with the clock skew allowed. Only the configured asymmetric algorithms pass, so
 * `alg: none` and HMAC tokens are refused.
 */
export async function createJwtVerifier(settings: JwtSettings, kind: PrincipalKind): Promise<TokenVerifier> {
  const fetchKeys = createKeyFetch({
    caFile: settings.caFile,
    tokenFile: settings.fetchTokenFile,
    timeoutMs: settings.jwksTimeoutMs,
  });
  // Counted when an answer arrives: a verification that began before holds the older number.
  let generation = 0;
  const fetch: KeyFetch = (url, init) =>
    fetchKeys(url, init).then((res) => {
      generation++;
      return res;
    });
  const getKey = await keyResolver(settings, fetch);
  return {
    keysGeneration: () => generation,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, getKey, {
          issuer: settings.issuer,
          audience: [...settings.audience],
          algorithms: [...settings.algorithms],
          clockTolerance: settings.clockSkewSeconds,
          requiredClaims: ["exp"],
        });
        return principalFromClaims(kind, payload);
      } catch (error) {
        return refusal(error);
      }
    },
  };
}

async function keyResolver(settings: JwtSettings, fetch: KeyFetch): Promise<JWTVerifyGetKey> {
  const keys = settings.keys;
  if (keys.kind === "file") {
    // A JWKS file from a ConfigMap or Secret is read once; mounting a new one needs a restart.
    return createLocalJWKSet(JSON.parse(await readFile(keys.path, "utf8")) as JSONWebKeySet);
  }
  const remote = (url: string) =>
    createRemoteJWKSet(new URL(url), {
      cooldownDuration: settings.jwksCooldownMs,
      cacheMaxAge: settings.jwksMaxAgeMs,
      timeoutDuration: settings.jwksTimeoutMs,
      [customFetch]: fetch,
    });
  if (keys.kind === "url") return remote(keys.url);
  // Discovery happens at the first token, and again after a failure, so the host starts even
  // when the issuer is briefly unreachable.
  let resolved: Promise<JWTVerifyGetKey> | undefined;
  return async (header, token) => {
    resolved ??= discoverJwksUri(settings.issuer, fetch).then(remote);
    try {
      return await (
        await resolved
      )(header, token);
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) resolved = undefined;
      throw error;
    }
  };
}

/** The refusal for a verification error; the token never appears in it. */
function refusal(error: unknown): AuthFailure {
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError))
    return unavailable(`fetching the JWKS failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error.code === "ERR_JOSE_GENERIC" || error instanceof errors.JWKSInvalid)
    return unavailable(`fetching the JWKS failed: ${error.message}`);
  const detail =
    error instanceof errors.JWTExpired
      ? "the token has expired"
      : error instanceof errors.JWTClaimValidationFailed
        ? `the token's "${error.claim}" claim is not accepted`
        : error instanceof errors.JOSEAlgNotAllowed
          ? "the token's signing algorithm is not accepted"
          : error instanceof errors.JWKSNoMatchingKey
            ? "no trusted key matches the token"
            : error instanceof errors.JWSSignatureVerificationFailed
              ? "the token's signature does not verify"
              : "the token is not a valid signed JWT";
  return unauthorized(detail, `${error.code}: ${detail}`, true);
}
