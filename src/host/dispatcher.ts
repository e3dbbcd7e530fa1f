/**
 * The command pipeline now lives in `src/pipeline/`; these names keep the old import path.
 */
export { Pipeline as Dispatcher, crossesBoundary, EVENT_LOAD_OVERHEAD } from "../pipeline/index.js";
export type {
  PipelineOptions as DispatcherOptions,
  CommandReply,
  CommandRequest,
  EntitySnapshot,
} from "../pipeline/index.js";
