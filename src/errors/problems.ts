/**
 * The catalogue of failures a client can see. Each entry is rendered as an RFC 9457
 * `application/problem+json` body. Status codes follow Knative Eventing's retry rules:
 * 400 and other 4xx go straight to the dead-letter sink, while 404, 408, 409, 429 and
 * 5xx are retried. A problem that redelivery can fix must therefore be a 5xx (or 409),
 * and a problem that redelivery can never fix must be a 4xx other than 404/408/409/429.
 */
export const Problem = {
  invalidCloudEvent: { type: "/problems/invalid-cloudevent", status: 400, title: "Invalid CloudEvent" },
  invalidJson: { type: "/problems/invalid-json", status: 400, title: "Invalid JSON body" },
  missingSubject: { type: "/problems/missing-subject", status: 400, title: "Missing subject" },
  noEntityId: { type: "/problems/no-entity-id", status: 400, title: "No entity id in the event" },
  unknownType: { type: "/problems/unknown-type", status: 400, title: "Unknown event type" },
  invalidCommandData: { type: "/problems/invalid-command-data", status: 400, title: "Invalid command data" },
  invalidRequest: { type: "/problems/invalid-request", status: 400, title: "Invalid request" },
  unauthorized: { type: "/problems/unauthorized", status: 401, title: "Unauthorized" },
  forbidden: { type: "/problems/forbidden", status: 403, title: "Forbidden" },
  notFound: { type: "/problems/not-found", status: 404, title: "Not found" },
  methodNotAllowed: { type: "/problems/method-not-allowed", status: 405, title: "Method not allowed" },
  requestTimeout: { type: "/problems/request-timeout", status: 408, title: "Request timeout" },
  preconditionFailed: { type: "/problems/precondition-failed", status: 412, title: "Precondition failed" },
  /** A replicated entity's operations were refused: a stale fencing token, a counter overflow. */
  operationRefused: { type: "/problems/operation-refused", status: 412, title: "Operation refused" },
  payloadTooLarge: { type: "/problems/payload-too-large", status: 413, title: "Payload too large" },
  unsupportedMediaType: {
    type: "/problems/unsupported-media-type",
    status: 415,
    title: "Unsupported media type",
  },
  headersTooLarge: { type: "/problems/headers-too-large", status: 431, title: "Request headers too large" },
  adminUnauthorized: { type: "/problems/admin-unauthorized", status: 401, title: "Admin access refused" },
  notAvailable: { type: "/problems/not-available", status: 501, title: "Not available" },
  commandRejected: { type: "/problems/command-rejected", status: 422, title: "Command rejected" },
  handlerFailed: { type: "/problems/handler-failed", status: 500, title: "Internal error" },
  storeUnavailable: { type: "/problems/store-unavailable", status: 503, title: "State store unavailable" },
  conflictExhausted: {
    type: "/problems/conflict-retries-exhausted",
    status: 503,
    title: "Too many concurrent updates",
  },
  authUnavailable: {
    type: "/problems/auth-unavailable",
    status: 503,
    title: "Token verification unavailable",
  },
  unreadableState: {
    type: "/problems/unreadable-state",
    status: 503,
    title: "Stored state unreadable by this definition",
  },
} as const;

export type ProblemKind = (typeof Problem)[keyof typeof Problem];
