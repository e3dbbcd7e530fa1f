import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { AuthFailure } from "./failure.js";
import type { TokenVerifier } from "./jwt-verifier.js";
import type { Principal } from "./principal.js";

/** Verified tokens kept at most: a few MB of principals and digests at a few hundred bytes each. */
export const TOKEN_CACHE_ENTRIES = 10_000;

export interface TokenCacheOptions {
  /** Longest time a verified token is answered from the cache (0: no cache). */
  readonly maxAgeMs: number;
  readonly maxEntries?: number;
  /** Milliseconds since the epoch, to compare with `exp` (tests pass a controllable clock). */
  readonly now?: () => number;
}

interface Entry {
  readonly principal: Principal;
  /** `keysGeneration()` when the verification began. */
  readonly generation: number;
}

/**
 * A verifier that remembers the tokens `verifier` accepted, keyed by their SHA-256 (the token
 * itself is not kept), so a caller sending the same token again costs a hash and a lookup
 * instead of a signature check. An entry lives until the token's `exp` or `maxAgeMs`, whichever
 * comes first; the least recently used go first beyond `maxEntries`. Refusals are not cached.
 *
 * Key rotation: once the verifier has fetched its keys again (a token with an unknown `kid`, or
 * the JWKS's own max age), every entry verified before is checked again at its next use, so a
 * token of a key removed from the JWKS is refused from then on. Without such a fetch it is
 * accepted for at most `maxAgeMs` after its last full verification.
 */
export function cachedVerifier(verifier: TokenVerifier, options: TokenCacheOptions): TokenVerifier {
  if (options.maxAgeMs <= 0) return verifier;
  const now = options.now ?? Date.now;
  const generation = verifier.keysGeneration ?? (() => 0);
  const cache = new LRUCache<string, Entry>({
    max: options.maxEntries ?? TOKEN_CACHE_ENTRIES,
    ttl: options.maxAgeMs,
    // The cache's own clock, read at every lookup (no cached reading, no timer), so that an
    // entry's age follows `now` in tests as well.
    perf: { now },
    ttlResolution: 0,
  });
  return {
    keysGeneration: generation,
    async verify(token: string): Promise<Principal | AuthFailure> {
      const digest = createHash("sha256").update(token).digest("base64url");
      const current = generation();
      const hit = cache.get(digest);
      if (hit !== undefined && hit.generation === current) return hit.principal;
      const result = await verifier.verify(token);
      if (result.kind === "failure") {
        cache.delete(digest);
        return result;
      }
      const exp = result.claims["exp"];
      const ttl = typeof exp === "number" ? Math.min(options.maxAgeMs, exp * 1000 - now()) : 0;
      if (ttl > 0) cache.set(digest, { principal: result, generation: current }, { ttl });
      return result;
    },
  };
}
