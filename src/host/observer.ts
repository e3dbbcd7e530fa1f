/** The pipeline's observer hooks now live in `src/pipeline/observer.ts`; this keeps the old import path. */
export * from "../pipeline/observer.js";
