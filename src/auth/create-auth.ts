import { createAuthenticator, type Authenticator } from "./authenticator.js";
import { loadPolicy, type AuthorizationPolicy } from "./policy.js";
import type { AuthSettings } from "./settings.js";

/** Everything the edge needs, built once at startup from `parseAuthSettings(process.env)`. */
export interface Auth {
  /** For `POST /{entity}/{id}/{command}` and `GET /{entity}/{id}`. */
  readonly api: Authenticator;
  /** For the CloudEvents ingress `POST /`. */
  readonly events: Authenticator;
  readonly policy: AuthorizationPolicy | undefined;
}

export async function createAuth(settings: AuthSettings): Promise<Auth> {
  const [api, events, policy] = await Promise.all([
    createAuthenticator(settings.api),
    createAuthenticator(settings.events),
    loadPolicy(settings.policy),
  ]);
  return { api, events, policy };
}
