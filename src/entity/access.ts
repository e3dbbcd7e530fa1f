/**
 * Who runs a command, as the host verified it, and the rule an entity declares about it.
 * The host authenticates the request (a JWT, an API key or a Knative OIDC token) and hands
 * the entity the subject and claims; the entity decides with a pure, synchronous function.
 */

/** The verified caller: the token's `sub` and its claims (an API key has a fixed subject, no claims). */
export interface Caller {
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** What a caller asks to do with one entity: run a command, or read its current state. */
export type AccessRequest<C extends string = string> =
  | { readonly kind: "command"; readonly command: C; readonly entityId: string }
  | { readonly kind: "read"; readonly entityId: string };

/**
 * An entity's access rule: `true` lets the request through, `false` answers 403 and stores
 * nothing. `caller` is undefined when authentication is off.
 */
export type AccessRule<C extends string = string> = (
  caller: Caller | undefined,
  request: AccessRequest<C>,
) => boolean;

/** Runs a rule, refusing anything but a synchronous `true` (a promise or a throw denies). */
export function checkAccess(
  rule: AccessRule | undefined,
  caller: Caller | undefined,
  request: AccessRequest,
): boolean {
  if (rule === undefined) return true;
  try {
    const result: unknown = rule(caller, request);
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      (result as Promise<unknown>).then(undefined, () => undefined);
      return false;
    }
    return result === true;
  } catch {
    return false;
  }
}
