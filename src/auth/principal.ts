import type { Caller } from "../entity/access.js";

/** How a caller proved who it is. */
export type PrincipalKind = "jwt" | "api-key" | "oidc" | "anonymous";

/**
 * A verified caller. `subject` and `claims` are what the entity's `authorize` rule and the
 * command handler's context see; `scopes` and `roles` are read from the usual claims
 * (`scope` space-separated or `scp`, `roles` or `realm_access.roles`) for policies.
 */
export interface Principal extends Caller {
  readonly kind: PrincipalKind;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

/** The caller when authentication is off: it may do everything a policy allows `anonymous`. */
export const ANONYMOUS: Principal = Object.freeze({
  kind: "anonymous",
  subject: "anonymous",
  claims: Object.freeze({}),
  scopes: Object.freeze([]),
  roles: Object.freeze([]),
});

export function principalFromClaims(
  kind: PrincipalKind,
  claims: Readonly<Record<string, unknown>>,
): Principal {
  const scope = claims["scope"];
  const scp = claims["scp"];
  const scopes =
    typeof scope === "string"
      ? scope.split(" ").filter((s) => s !== "")
      : Array.isArray(scp)
        ? strings(scp)
        : [];
  const realm = claims["realm_access"];
  const roles = Array.isArray(claims["roles"])
    ? strings(claims["roles"] as unknown[])
    : typeof realm === "object" && realm !== null && Array.isArray((realm as { roles?: unknown }).roles)
      ? strings((realm as { roles: unknown[] }).roles)
      : [];
  const sub = claims["sub"];
  return Object.freeze({
    kind,
    subject: typeof sub === "string" ? sub : "",
    claims: Object.freeze({ ...claims }),
    scopes: Object.freeze(scopes),
    roles: Object.freeze(roles),
  });
}

function strings(values: readonly unknown[]): string[] {
  return values.filter((v): v is string => typeof v === "string");
}
