import { readFile } from "node:fs/promises";
import { z } from "zod";
import { glob } from "./authenticator.js";
import { forbidden, type AuthFailure } from "./failure.js";
import type { Principal } from "./principal.js";
import { AuthConfigError, type AuthSettings } from "./settings.js";

/**
 * A host-wide authorization policy (`KNSTATE_AUTH_POLICY` or `KNSTATE_AUTH_POLICY_FILE`, JSON):
 * rules that grant principals matching claims the right to run `entity.command` patterns and to
 * read entities' state or event history. Anything no rule grants is refused with 403. Without a
 * policy, every authenticated caller may do everything (the entity's own `authorize` rule still
 * applies).
 *
 * @example
 * {"rules": [
 *   {"match": {"scope": "cart:write"}, "commands": ["cart.*"], "read": ["cart"]},
 *   {"match": {"role": "operator"}, "commands": ["*"], "read": ["*"], "events": ["*"]},
 *   {"match": {"subject": "system:serviceaccount:knative-eventing:*"}, "commands": ["*"]}
 * ]}
 */
export interface AuthorizationPolicy {
  readonly rules: readonly CompiledRule[];
}

/** What a request asks for: the edge builds one per request after authentication. */
export type Action =
  | { readonly kind: "command"; readonly entity: string; readonly command: string }
  | { readonly kind: "read-state"; readonly entity: string }
  | { readonly kind: "read-events"; readonly entity: string };

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const RuleSchema = z.strictObject({
  match: z.strictObject({
    kind: z
      .union([
        z.enum(["jwt", "api-key", "oidc", "anonymous"]),
        z.array(z.enum(["jwt", "api-key", "oidc", "anonymous"])),
      ])
      .optional(),
    subject: oneOrMany.optional(),
    scope: oneOrMany.optional(),
    role: oneOrMany.optional(),
    claims: z.record(z.string(), z.union([scalar, z.array(scalar)])).optional(),
  }),
  commands: z.array(z.string().regex(/^[^.]+\.[^.]+$/, "a command pattern is entity.command")).optional(),
  read: z.array(z.string().min(1)).optional(),
  events: z.array(z.string().min(1)).optional(),
});
const PolicySchema = z.strictObject({ rules: z.array(RuleSchema) });

interface CompiledRule {
  matches(principal: Principal): boolean;
  readonly commands: readonly RegExp[];
  readonly read: readonly RegExp[];
  readonly events: readonly RegExp[];
}

/** Parses and checks a policy; a mistake is an `AuthConfigError` naming the rule and field. */
export function parsePolicy(json: string): AuthorizationPolicy {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new AuthConfigError([`the authorization policy is not JSON: ${(error as Error).message}`]);
  }
  const parsed = PolicySchema.safeParse(value);
  if (!parsed.success) {
    throw new AuthConfigError(
      parsed.error.issues.map((issue) => `authorization policy ${issue.path.join(".")}: ${issue.message}`),
    );
  }
  return Object.freeze({ rules: parsed.data.rules.map(compile) });
}

/** The policy named by the settings, or undefined when there is none. */
export async function loadPolicy(settings: AuthSettings["policy"]): Promise<AuthorizationPolicy | undefined> {
  if (settings.kind === "none") return undefined;
  return parsePolicy(settings.kind === "inline" ? settings.json : await readFile(settings.path, "utf8"));
}

/** Allowed (`undefined`), or the 403 to answer. Without a policy everything is allowed. */
export function authorize(
  policy: AuthorizationPolicy | undefined,
  principal: Principal,
  action: Action,
): AuthFailure | undefined {
  if (policy === undefined) return undefined;
  const target = action.kind === "command" ? `${action.entity}.${action.command}` : action.entity;
  for (const rule of policy.rules) {
    const patterns =
      action.kind === "command" ? rule.commands : action.kind === "read-state" ? rule.read : rule.events;
    if (patterns.some((p) => p.test(target)) && rule.matches(principal)) return undefined;
  }
  const what =
    action.kind === "command"
      ? `run ${action.entity}.${action.command}`
      : action.kind === "read-state"
        ? `read the state of ${action.entity}`
        : `read the events of ${action.entity}`;
  return forbidden(`the caller may not ${what}`);
}

function compile(rule: z.infer<typeof RuleSchema>): CompiledRule {
  const { kind, subject, scope, role, claims } = rule.match;
  const kinds = list(kind);
  const subjects = list(subject).map(glob);
  const scopes = list(scope);
  const roles = list(role);
  const claimChecks = Object.entries(claims ?? {}).map(([name, expected]) => {
    const wanted = list(expected);
    return (p: Principal) => {
      const actual = p.claims[name];
      const values: unknown[] = Array.isArray(actual) ? actual : [actual];
      return values.some((v) => wanted.includes(v as string | number | boolean));
    };
  });
  return {
    matches: (p) =>
      (kinds.length === 0 || kinds.includes(p.kind)) &&
      (subjects.length === 0 || subjects.some((s) => s.test(p.subject))) &&
      (scopes.length === 0 || scopes.some((s) => p.scopes.includes(s))) &&
      (roles.length === 0 || roles.some((r) => p.roles.includes(r))) &&
      claimChecks.every((check) => check(p)),
    commands: (rule.commands ?? []).map(glob),
    read: (rule.read ?? []).map(glob),
    events: (rule.events ?? []).map(glob),
  };
}

function list<T>(value: T | readonly T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? [...(value as T[])] : [value as T];
}
