import type { IncomingHttpHeaders } from "node:http";
import {
  ANONYMOUS,
  authorize,
  isAuthFailure,
  type Action,
  type Auth,
  type AuthFailure,
  type Principal,
} from "../auth/index.js";
import type { AccessRequest, Caller } from "../entity/access.js";
import type { EntityModel } from "../entity/model.js";
import type { ReplicatedModel } from "../entity/replicated/model.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Logger } from "../observability/logger.js";

/** A request refused by authentication or authorization: its problem plus `WWW-Authenticate`. */
export class AuthRefused extends HostError {
  readonly headers: Readonly<Record<string, string>>;
  constructor(failure: AuthFailure) {
    const problem =
      failure.status === 401
        ? Problem.unauthorized
        : failure.status === 403
          ? Problem.forbidden
          : Problem.authUnavailable;
    super(problem, failure.problem.detail);
    this.name = "AuthRefused";
    this.headers = failure.headers;
  }
}

/** Who sent a request: the principal for the policy, the caller the entity sees (none when auth is off). */
export interface Verified {
  readonly principal: Principal;
  readonly caller: Caller | undefined;
}

const UNVERIFIED: Verified = Object.freeze({ principal: ANONYMOUS, caller: undefined });

/**
 * Authentication and authorization as the HTTP edge applies them, before any body is read:
 * `verify` the surface's credentials, `permit` the action under the host's policy, then
 * `entityRule` the entity's own `authorize`. Each throws `AuthRefused` (401, 403 or 503).
 */
export interface EdgeAuth {
  verify(surface: "api" | "events", headers: IncomingHttpHeaders): Verified | Promise<Verified>;
  permit(verified: Verified, action: Action): void;
  entityRule(model: EntityModel | ReplicatedModel, verified: Verified, request: AccessRequest): void;
}

/** The edge's auth; without `auth` every request is anonymous and allowed (entity rules still apply). */
export function createEdgeAuth(auth: Auth | undefined, logger: Logger): EdgeAuth {
  const refuse = (failure: AuthFailure): never => {
    // The reason names what was wrong (expired, audience…), never the token or a key.
    if (failure.status !== 503)
      logger.debug("request refused", { status: failure.status, reason: failure.reason });
    throw new AuthRefused(failure);
  };
  const verifier = (surface: Auth["api"] | undefined) => {
    if (surface === undefined || surface.mode === "off") return () => UNVERIFIED;
    return async (headers: IncomingHttpHeaders): Promise<Verified> => {
      const result = await surface.authenticate(headers);
      if (isAuthFailure(result)) return refuse(result);
      return { principal: result, caller: { subject: result.subject, claims: result.claims } };
    };
  };
  const api = verifier(auth?.api);
  const events = verifier(auth?.events);
  const policy = auth?.policy;
  return {
    verify: (surface, headers) => (surface === "api" ? api(headers) : events(headers)),
    permit(verified, action) {
      if (policy === undefined) return;
      const denied = authorize(policy, verified.principal, action);
      if (denied !== undefined) refuse(denied);
    },
    entityRule(model, verified, request) {
      if (model.authorize(verified.caller, request)) return;
      const what = request.kind === "command" ? `run ${model.name}.${request.command}` : `read ${model.name}`;
      throw new HostError(Problem.forbidden, `the entity's rule does not let this caller ${what}`);
    },
  };
}
