import { createApiKeyMatcher, readApiKeysFile } from "./api-keys.js";
import { bearerToken, type RequestHeaders } from "./bearer.js";
import { unauthorized, type AuthFailure } from "./failure.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import { ANONYMOUS, type Principal } from "./principal.js";
import { cachedVerifier } from "./token-cache.js";
import type { ApiAuthSettings, EventsAuthSettings } from "./settings.js";

/**
 * Authenticates the requests of one surface (the HTTP API or the CloudEvents ingress). The edge
 * calls `authenticate` before parsing the body; on a failure it answers `failure.status` with
 * `failure.headers` and `failure.problem` as `application/problem+json`, and logs
 * `failure.reason`. Probes (`/healthz`, `/readyz`) are never authenticated.
 */
export interface Authenticator {
  readonly mode: "off" | "jwt" | "api-key" | "oidc";
  authenticate(headers: RequestHeaders): Promise<Principal | AuthFailure>;
}

/** Builds the authenticator of a surface; reads key files and, for `jwt`, a local JWKS file. */
export async function createAuthenticator(
  settings: ApiAuthSettings | EventsAuthSettings,
): Promise<Authenticator> {
  switch (settings.mode) {
    case "off":
      return { mode: "off", authenticate: () => Promise.resolve(ANONYMOUS) };
    case "api-key": {
      const file = settings.keysFile === undefined ? [] : await readApiKeysFile(settings.keysFile);
      const matcher = createApiKeyMatcher([...settings.keys, ...file]);
      if (matcher.size === 0) throw new Error("KNSTATE_API_AUTH=api-key but no API key was found");
      return {
        mode: "api-key",
        authenticate(headers) {
          const bearer = bearerToken(headers);
          if (bearer.kind !== "token") return Promise.resolve(missing(bearer.kind === "malformed"));
          return Promise.resolve(
            matcher.match(bearer.token) ??
              unauthorized("the API key is not accepted", "unknown API key", true),
          );
        },
      };
    }
    case "jwt":
    case "oidc": {
      const verifier = cachedVerifier(await createJwtVerifier(settings.jwt, settings.mode), {
        maxAgeMs: settings.jwt.cacheMaxAgeMs,
      });
      const subjects = settings.mode === "oidc" ? settings.allowedSubjects.map(glob) : [];
      return {
        mode: settings.mode,
        async authenticate(headers) {
          const bearer = bearerToken(headers);
          if (bearer.kind !== "token") return missing(bearer.kind === "malformed");
          const result = await verifier.verify(bearer.token);
          if (result.kind === "failure" || subjects.length === 0) return result;
          if (subjects.some((pattern) => pattern.test(result.subject))) return result;
          return unauthorized(
            "the sender is not accepted",
            `sender ${result.subject} is not in KNSTATE_OIDC_ALLOWED_SUBJECTS`,
            true,
          );
        },
      };
    }
  }
}

function missing(malformed: boolean): AuthFailure {
  return malformed
    ? unauthorized(
        "send the credentials as Authorization: Bearer <token>",
        "malformed Authorization header",
        true,
      )
    : unauthorized("this endpoint needs Authorization: Bearer <token>", "no credentials", false);
}

/** `*` matches any run of characters; everything else is literal. */
export function glob(pattern: string): RegExp {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}
