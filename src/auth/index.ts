/**
 * Authentication and authorization of the host's public surfaces. The HTTP edge calls, per
 * request: `authenticate(headers)` of the surface's `Authenticator`, then `authorize(policy,
 * principal, action)`, then the entity's own rule through the pipeline (`model.authorize`).
 */
export { createApiKeyMatcher, readApiKeysFile, type ApiKeyMatcher } from "./api-keys.js";
export { createAuthenticator, type Authenticator } from "./authenticator.js";
export { bearerToken, type RequestHeaders } from "./bearer.js";
export { AuthProblem, isAuthFailure, type AuthFailure } from "./failure.js";
export { createJwtVerifier, type TokenVerifier } from "./jwt-verifier.js";
export { cachedVerifier, TOKEN_CACHE_ENTRIES, type TokenCacheOptions } from "./token-cache.js";
export { authorize, loadPolicy, parsePolicy, type Action, type AuthorizationPolicy } from "./policy.js";
export { ANONYMOUS, principalFromClaims, type Principal, type PrincipalKind } from "./principal.js";
export { warnIfUnprotected, type WarnLogger } from "./production-warning.js";
export {
  AuthConfigError,
  authSettingsFromConfig,
  parseAuthSettings,
  type ApiAuthSettings,
  type AuthSettings,
  type EventsAuthSettings,
  type JwtSettings,
} from "./settings.js";
export { createAuth, type Auth } from "./create-auth.js";
