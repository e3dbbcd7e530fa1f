/** The outbound HTTP client now lives in `src/net/post.ts`; this keeps the old import path. */
export * from "../net/post.js";
