/** The after-listening scheduler now lives in `src/observability/after-startup.ts`; this keeps the old import path. */
export * from "../observability/after-startup.js";
