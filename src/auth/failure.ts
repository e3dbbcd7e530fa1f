/**
 * Refusals of the auth layer as RFC 9457 problems. Status codes follow Knative Eventing's
 * retry rules: 401 and 403 are not retried (the event goes to the dead-letter sink at once),
 * while 503 (the JWKS or discovery endpoint cannot be reached) is retried, so an event is
 * not lost to an identity provider's outage.
 */
export const AuthProblem = {
  unauthorized: { type: "/problems/unauthorized", status: 401, title: "Unauthorized" },
  forbidden: { type: "/problems/forbidden", status: 403, title: "Forbidden" },
  authUnavailable: {
    type: "/problems/auth-unavailable",
    status: 503,
    title: "Token verification unavailable",
  },
} as const;

export type AuthProblemKind = (typeof AuthProblem)[keyof typeof AuthProblem];

/** A refused request: render `problem` as `application/problem+json` with `status` and `headers`. */
export interface AuthFailure {
  readonly kind: "failure";
  readonly status: 401 | 403 | 503;
  readonly problem: {
    readonly type: string;
    readonly title: string;
    readonly status: number;
    readonly detail: string;
  };
  /** `WWW-Authenticate` on 401, `Retry-After` on 503. */
  readonly headers: Readonly<Record<string, string>>;
  /** Why, for the log line (never contains the token or a key). */
  readonly reason: string;
}

export function isAuthFailure(value: unknown): value is AuthFailure {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "failure";
}

const REALM = 'Bearer realm="knstate"';

/**
 * 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3): no `error` when no credentials were sent,
 * `error="invalid_token"` when they were refused. The description is fixed text, never the token.
 */
export function unauthorized(detail: string, reason: string, tokenSent: boolean): AuthFailure {
  const challenge = tokenSent
    ? `${REALM}, error="invalid_token", error_description="${detail.replace(/["\\]/g, "")}"`
    : REALM;
  return {
    kind: "failure",
    status: 401,
    problem: { ...AuthProblem.unauthorized, detail },
    headers: { "www-authenticate": challenge },
    reason,
  };
}

export function forbidden(detail: string): AuthFailure {
  return {
    kind: "failure",
    status: 403,
    problem: { ...AuthProblem.forbidden, detail },
    headers: {},
    reason: detail,
  };
}

export function unavailable(reason: string): AuthFailure {
  return {
    kind: "failure",
    status: 503,
    problem: {
      ...AuthProblem.authUnavailable,
      detail: "the keys that verify tokens cannot be fetched right now; retry later",
    },
    headers: { "retry-after": "5" },
    reason,
  };
}
