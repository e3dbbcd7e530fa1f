/**
 * Authentication settings, read from the environment by a pure function (the caller passes
 * `process.env`). Two surfaces are configured apart: the HTTP API (`KNSTATE_API_AUTH`) and the
 * CloudEvents ingress `POST /` (`KNSTATE_EVENTS_AUTH`), because their callers differ: people and
 * services with tokens from an identity provider on one side, Knative Eventing's brokers and
 * channels with Kubernetes service-account tokens on the other.
 */
import type { HostConfig } from "../config/host-config.js";
import { authSettings } from "../config/settings-auth.js";
import { ASYMMETRIC_ALGORITHMS, Reader } from "./env-reader.js";

export { ASYMMETRIC_ALGORITHMS };

/** Where the public keys come from: a JWKS URL (cached and refreshed), a local file, or OIDC discovery. */
export type KeySource =
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "discovery" };

export interface JwtSettings {
  readonly issuer: string;
  /** Accepted `aud` values (the token must name one of them). */
  readonly audience: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly keys: KeySource;
  /** Least time between two JWKS fetches caused by an unknown `kid`. */
  readonly jwksCooldownMs: number;
  /** A fetched JWKS is fetched again after this long, even when every `kid` matches. */
  readonly jwksMaxAgeMs: number;
  readonly jwksTimeoutMs: number;
  /** A verified token is accepted again without checking its signature for this long at most (0: never). */
  readonly cacheMaxAgeMs: number;
  /** PEM bundle trusted for the discovery and JWKS requests (the cluster CA in Kubernetes). */
  readonly caFile: string | undefined;
  /** A bearer token file sent with the discovery and JWKS requests (the API server asks for one). */
  readonly fetchTokenFile: string | undefined;
}

export type ApiAuthSettings =
  | { readonly mode: "off" }
  | { readonly mode: "jwt"; readonly jwt: JwtSettings }
  | { readonly mode: "api-key"; readonly keys: readonly string[]; readonly keysFile: string | undefined };

export type EventsAuthSettings =
  | { readonly mode: "off" }
  | {
      readonly mode: "oidc";
      readonly jwt: JwtSettings;
      /** Accepted `sub` values (`system:serviceaccount:<ns>:<name>`, `*` matches any run of characters). */
      readonly allowedSubjects: readonly string[];
    };

/** Where the authorization policy comes from. */
export type PolicySource =
  | { readonly kind: "none" }
  | { readonly kind: "inline"; readonly json: string }
  | { readonly kind: "file"; readonly path: string };

export interface AuthSettings {
  readonly api: ApiAuthSettings;
  readonly events: EventsAuthSettings;
  /** JSON text of an authorization policy (see `parsePolicy`), or a file that holds it. */
  readonly policy: PolicySource;
  /** NODE_ENV=production, or running as a Knative Service (K_SERVICE set). */
  readonly production: boolean;
}

/** Every problem of the auth settings at once, each naming the variable to change. */
export class AuthConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid authentication settings:\n  - ${problems.join("\n  - ")}`);
    this.name = "AuthConfigError";
    this.problems = problems;
  }
}

/** The issuer of Kubernetes service-account tokens in most clusters (kind, kubeadm, k3s). */
export const KUBERNETES_ISSUER = "https://kubernetes.default.svc.cluster.local";
const IN_CLUSTER_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function parseAuthSettings(env: Readonly<Record<string, string | undefined>>): AuthSettings {
  const problems: string[] = [];
  const read = new Reader(env, problems);
  const api = parseApi(read);
  const events = parseEvents(read);
  const inline = read.text("KNSTATE_AUTH_POLICY");
  const file = read.text("KNSTATE_AUTH_POLICY_FILE");
  if (inline !== undefined && file !== undefined)
    problems.push("set KNSTATE_AUTH_POLICY or KNSTATE_AUTH_POLICY_FILE, not both");
  if (problems.length > 0) throw new AuthConfigError(problems);
  const policy: PolicySource =
    inline !== undefined
      ? { kind: "inline", json: inline }
      : file !== undefined
        ? { kind: "file", path: file }
        : { kind: "none" };
  return Object.freeze({
    api,
    events,
    policy,
    production: env["NODE_ENV"] === "production" || (env["K_SERVICE"] ?? "") !== "",
  });
}

function parseApi(read: Reader): ApiAuthSettings {
  const mode = read.oneOf("KNSTATE_API_AUTH", ["off", "jwt", "api-key"] as const, "off");
  if (mode === "jwt") {
    const url = read.text("KNSTATE_JWT_JWKS_URL");
    const file = read.text("KNSTATE_JWT_JWKS_FILE");
    if ((url === undefined) === (file === undefined))
      read.problem(
        "KNSTATE_API_AUTH=jwt needs exactly one of KNSTATE_JWT_JWKS_URL and KNSTATE_JWT_JWKS_FILE",
      );
    const keys: KeySource =
      file !== undefined
        ? { kind: "file", path: file }
        : { kind: "url", url: read.url("KNSTATE_JWT_JWKS_URL") };
    return {
      mode,
      jwt: read.jwt(
        "KNSTATE_JWT",
        keys,
        read.required("KNSTATE_JWT_ISSUER"),
        read.list("KNSTATE_JWT_AUDIENCE"),
      ),
    };
  }
  if (mode === "api-key") {
    const keys = read.list("KNSTATE_API_KEYS");
    const keysFile = read.text("KNSTATE_API_KEYS_FILE");
    if (keys.length === 0 && keysFile === undefined)
      read.problem("KNSTATE_API_AUTH=api-key needs KNSTATE_API_KEYS or KNSTATE_API_KEYS_FILE");
    for (const key of keys)
      if (key.length < 16) read.problem("every API key in KNSTATE_API_KEYS must have at least 16 characters");
    return { mode, keys, keysFile };
  }
  return { mode: "off" };
}

function parseEvents(read: Reader): EventsAuthSettings {
  const mode = read.oneOf("KNSTATE_EVENTS_AUTH", ["off", "oidc"] as const, "off");
  if (mode === "off") return { mode };
  const issuer = read.text("KNSTATE_OIDC_ISSUER") ?? KUBERNETES_ISSUER;
  const url = read.text("KNSTATE_OIDC_JWKS_URL");
  const keys: KeySource =
    url === undefined ? { kind: "discovery" } : { kind: "url", url: read.url("KNSTATE_OIDC_JWKS_URL") };
  const audience = read.list("KNSTATE_OIDC_AUDIENCE");
  if (audience.length === 0)
    read.problem("KNSTATE_EVENTS_AUTH=oidc needs KNSTATE_OIDC_AUDIENCE (the Trigger's subscriber.audience)");
  // The pod's service-account token and the cluster CA are sent only to the API server, which
  // serves the issuer's discovery and keys to authenticated service accounts.
  const target = keys.kind === "url" ? keys.url : issuer;
  const inCluster = /^https:\/\/kubernetes\.default\.svc(\.|$|\/|:)/.test(target);
  const jwt = read.jwt("KNSTATE_OIDC", keys, issuer, audience, {
    caFile: read.text("KNSTATE_OIDC_CA_FILE") ?? (inCluster ? IN_CLUSTER_CA : undefined),
    fetchTokenFile: read.text("KNSTATE_OIDC_TOKEN_FILE") ?? (inCluster ? IN_CLUSTER_TOKEN : undefined),
  });
  return { mode, jwt, allowedSubjects: read.list("KNSTATE_OIDC_ALLOWED_SUBJECTS") };
}

/**
 * The settings from the host's configuration (the rows of `src/config/settings-auth.ts`);
 * `env` gives `NODE_ENV` and `K_SERVICE`, which decide whether the host runs in production.
 */
export function authSettingsFromConfig(
  config: HostConfig,
  env: Readonly<Record<string, string | undefined>>,
): AuthSettings {
  const values: Record<string, string | undefined> = {
    NODE_ENV: env["NODE_ENV"],
    K_SERVICE: env["K_SERVICE"],
  };
  for (const [key, spec] of Object.entries(authSettings)) {
    if (spec.kind === "boolean") continue;
    values[spec.env] = config[key as keyof typeof authSettings] as string | undefined;
  }
  return parseAuthSettings(values);
}
