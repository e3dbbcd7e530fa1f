import type { IncomingMessage } from "node:http";
import { isAuthFailure, type Authenticator } from "../auth/index.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { AdminAuthenticate } from "./access.js";

/**
 * Admin access by the API's JWT authentication (`KNSTATE_API_AUTH=jwt`): a bearer token the API
 * accepts (signature by the JWKS, issuer, audience, expiry) is admitted when it carries `role`
 * among its roles (`roles`, `realm_access.roles`) or scopes (`scope`, `scp`). Resolves with the
 * token's subject, which the log of operations names; undefined when no valid token was sent.
 * A valid token without the role is refused with 403, and an identity provider that cannot be
 * reached with 503 (a later try can succeed), so neither reads as a bad credential.
 */
export function adminJwt(api: Authenticator, role: string): AdminAuthenticate | undefined {
  if (api.mode !== "jwt") return undefined;
  return async (req: IncomingMessage) => {
    const principal = await api.authenticate(req.headers);
    if (isAuthFailure(principal)) {
      if (principal.status === 503) throw new HostError(Problem.authUnavailable, principal.problem.detail);
      return undefined;
    }
    if (!principal.roles.includes(role) && !principal.scopes.includes(role)) {
      throw new HostError(Problem.forbidden, `the token does not carry the admin role '${role}'`);
    }
    return principal.subject;
  };
}
