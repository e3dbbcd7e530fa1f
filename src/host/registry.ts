/** The routing table now lives in `src/pipeline/registry.ts`; this keeps the old import path. */
export * from "../pipeline/registry.js";
