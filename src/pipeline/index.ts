export { DEFAULT_CACHE_MAX_BYTES, Pipeline } from "./pipeline.js";
export type { CommandReply, CommandRequest, EntitySnapshot, PipelineOptions } from "./types.js";
export type { Accepted, Answered, Decision, Effects, Failed, Verdict } from "./decision.js";
export { crossesBoundary, EVENT_LOAD_OVERHEAD } from "./snapshot-policy.js";
