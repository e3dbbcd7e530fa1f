import type { SettingSpec } from "./setting.js";

/** A text row of the authentication settings (src/auth checks the values: `parseAuthSettings`). */
function text(
  env: string,
  doc: string,
): SettingSpec & { readonly kind: "string"; readonly default: undefined } {
  return { env, kind: "string", default: undefined, doc };
}

/**
 * Authentication and authorization of the public port, and which operator views it serves.
 * The values are checked together by `src/auth` (`authSettingsFromConfig`), which reports every
 * problem at once; durations here are whole seconds, as token lifetimes are written.
 */
export const authSettings = {
  apiAuth: {
    env: "KNSTATE_API_AUTH",
    kind: "enum",
    values: ["off", "jwt", "api-key"],
    default: "off",
    doc: "Authentication of the HTTP API: `off` (development only), `jwt` (bearer JWTs checked against a JWKS) or `api-key`.",
  },
  jwtJwksUrl: text(
    "KNSTATE_JWT_JWKS_URL",
    "`jwt`: the identity provider's JWKS (keys cached and refreshed).",
  ),
  jwtJwksFile: text("KNSTATE_JWT_JWKS_FILE", "`jwt`: a local JWKS file instead of the URL, read at start."),
  jwtIssuer: text("KNSTATE_JWT_ISSUER", "`jwt`: the required `iss`."),
  jwtAudience: text("KNSTATE_JWT_AUDIENCE", "`jwt`: accepted `aud` values, comma-separated."),
  jwtAlgorithms: text(
    "KNSTATE_JWT_ALGORITHMS",
    "`jwt`: accepted `alg` values (default: RS, PS, ES 256-512 and EdDSA; `none` and HS* are refused).",
  ),
  jwtClockSkew: text(
    "KNSTATE_JWT_CLOCK_SKEW",
    "`jwt`: seconds of tolerance on `exp` and `nbf` (default 30).",
  ),
  jwtJwksCooldown: text(
    "KNSTATE_JWT_JWKS_COOLDOWN",
    "`jwt`: least seconds between two JWKS fetches caused by an unknown `kid` (default 30).",
  ),
  jwtJwksMaxAge: text(
    "KNSTATE_JWT_JWKS_MAX_AGE",
    "`jwt`: seconds a fetched JWKS is used before it is fetched again (default 600).",
  ),
  jwtJwksTimeout: text("KNSTATE_JWT_JWKS_TIMEOUT", "`jwt`: seconds to wait for the JWKS (default 5)."),
  jwtCacheMaxAge: text(
    "KNSTATE_JWT_CACHE_MAX_AGE",
    "`jwt`: seconds a verified token is accepted again without checking its signature, at most until its `exp` (default 60; 0 turns the cache off).",
  ),
  apiKeys: text(
    "KNSTATE_API_KEYS",
    "`api-key`: accepted keys, comma-separated, 16 characters at least, sent as `Authorization: Bearer <key>`.",
  ),
  apiKeysFile: text("KNSTATE_API_KEYS_FILE", "`api-key`: a file of keys, one a line (a mounted Secret)."),
  eventsAuth: {
    env: "KNSTATE_EVENTS_AUTH",
    kind: "enum",
    values: ["off", "oidc"],
    default: "off",
    doc: "Authentication of the CloudEvents ingress `POST /`: `off` or `oidc` (Knative Eventing's sender identity).",
  },
  oidcIssuer: text(
    "KNSTATE_OIDC_ISSUER",
    "`oidc`: the cluster's service-account issuer (default https://kubernetes.default.svc.cluster.local).",
  ),
  oidcJwksUrl: text(
    "KNSTATE_OIDC_JWKS_URL",
    "`oidc`: the issuer's JWKS (default: from its discovery document).",
  ),
  oidcAudience: text(
    "KNSTATE_OIDC_AUDIENCE",
    "`oidc`: the accepted audience, the Trigger's `subscriber.audience` (required with `oidc`).",
  ),
  oidcAllowedSubjects: text(
    "KNSTATE_OIDC_ALLOWED_SUBJECTS",
    "`oidc`: accepted senders, comma-separated, `*` a wildcard (default: any).",
  ),
  oidcCaFile: text(
    "KNSTATE_OIDC_CA_FILE",
    "`oidc`: CA of the discovery and JWKS requests (default in a pod: its service-account `ca.crt`).",
  ),
  oidcTokenFile: text(
    "KNSTATE_OIDC_TOKEN_FILE",
    "`oidc`: bearer token sent with those requests (default in a pod: its service-account token).",
  ),
  oidcAlgorithms: text("KNSTATE_OIDC_ALGORITHMS", "`oidc`: as KNSTATE_JWT_ALGORITHMS."),
  oidcClockSkew: text("KNSTATE_OIDC_CLOCK_SKEW", "`oidc`: as KNSTATE_JWT_CLOCK_SKEW."),
  oidcJwksCooldown: text("KNSTATE_OIDC_JWKS_COOLDOWN", "`oidc`: as KNSTATE_JWT_JWKS_COOLDOWN."),
  oidcJwksMaxAge: text("KNSTATE_OIDC_JWKS_MAX_AGE", "`oidc`: as KNSTATE_JWT_JWKS_MAX_AGE."),
  oidcJwksTimeout: text("KNSTATE_OIDC_JWKS_TIMEOUT", "`oidc`: as KNSTATE_JWT_JWKS_TIMEOUT."),
  oidcCacheMaxAge: text("KNSTATE_OIDC_CACHE_MAX_AGE", "`oidc`: as KNSTATE_JWT_CACHE_MAX_AGE."),
  authPolicy: text(
    "KNSTATE_AUTH_POLICY",
    "Authorization policy (JSON rules granting commands and reads by claims); unset: every authenticated caller.",
  ),
  authPolicyFile: text("KNSTATE_AUTH_POLICY_FILE", "The authorization policy from a file instead."),
  publicEvents: {
    env: "KNSTATE_PUBLIC_EVENTS",
    kind: "boolean",
    default: "false",
    doc: "Also serve `GET /{entity}/{id}/events` on the public port (the admin port always serves it).",
  },
} as const satisfies Record<string, SettingSpec>;
