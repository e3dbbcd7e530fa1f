import type { IncomingMessage } from "node:http";
import { isAuthFailure, type Authenticator } from "../auth/index.js";
import type { AdminAuthenticate } from "./access.js";

/**
 * Admin access by the API's JWT authentication (`KNSTATE_API_AUTH=jwt`): a bearer token the API
 * accepts (signature by the JWKS, issuer, audience, expiry) is admitted when it carries `role`
 * among its roles (`roles`, `realm_access.roles`) or scopes (`scope`, `scp`). Resolves with the
 * token's subject, which the log of operations names.
 */
export function adminJwt(api: Authenticator, role: string): AdminAuthenticate | undefined {
  if (api.mode !== "jwt") return undefined;
  return async (req: IncomingMessage) => {
    const principal = await api.authenticate(req.headers);
    if (isAuthFailure(principal)) return undefined;
    if (!principal.roles.includes(role) && !principal.scopes.includes(role)) return undefined;
    return principal.subject;
  };
}
