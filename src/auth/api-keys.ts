import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { principalFromClaims, type Principal } from "./principal.js";

/**
 * Static API keys, for a few trusted callers without an identity provider. Keys are kept as
 * SHA-256 digests and every key is compared in constant time, all of them on every request,
 * so neither the position of a match nor a common prefix shows in the response time.
 */
export interface ApiKeyMatcher {
  readonly size: number;
  match(candidate: string): Principal | undefined;
}

/** Keys of a file: one a line (a Secret mounted as a file); blank lines and `#` comments skipped. */
export async function readApiKeysFile(path: string): Promise<string[]> {
  return (await readFile(path, "utf8"))
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

export function createApiKeyMatcher(keys: readonly string[]): ApiKeyMatcher {
  const digests = [...new Set(keys)].map(digest);
  return {
    size: digests.length,
    match(candidate) {
      const offered = digest(candidate);
      let found = -1;
      digests.forEach((known, index) => {
        if (timingSafeEqual(known, offered) && found < 0) found = index;
      });
      const known = digests[found];
      if (known === undefined) return undefined;
      // The subject names the key by a digest prefix, so logs and rules can tell keys apart
      // without holding a secret.
      return principalFromClaims("api-key", { sub: `api-key:${known.subarray(0, 6).toString("hex")}` });
    },
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
