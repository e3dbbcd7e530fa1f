/**
 * The pipeline's observer hooks (what metrics, tracing, logs and the event publisher see of a
 * command) are defined in `src/observability/pipeline-observer.ts`, a leaf that imports only
 * types of the domain; the pipeline's steps import them from here.
 */
export * from "../observability/pipeline-observer.js";
