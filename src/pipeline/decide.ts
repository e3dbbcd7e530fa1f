import { CommandRejected, HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { DedupRecord } from "../store/state-store.js";
import { hasEffects, type Decision, type EntityVersion, type Verdict } from "./decision.js";
import type { PipelineObserver } from "./observer.js";
import { toTimerChanges } from "./timer-effects.js";
import { outboxMessages } from "./outbox-messages.js";
import type { Job } from "./types.js";

export interface DecideContext {
  readonly newId: () => string;
  readonly observer: PipelineObserver;
  /** The clock timers are scheduled by (ms since epoch); `Date.now` when absent. */
  readonly now?: () => number;
}

/**
 * Decide: runs the handlers of `jobs` in order on `base`, each seeing the state its
 * predecessors left. Pure but for the observer and the reply ids: nothing is stored here.
 */
export function decide(jobs: readonly Job[], base: EntityVersion, context: DecideContext): Decision {
  const { observer } = context;
  let state = base.state;
  let version = base.version;
  let changes = false;
  const verdicts: Verdict[] = [];
  let decidedHere: Map<string, DedupRecord> | undefined;
  for (const job of jobs) {
    const { request } = job;
    // A redelivery queued behind its first delivery: applied once, answered the same.
    const earlier = request.dedupId === undefined ? undefined : decidedHere?.get(request.dedupId);
    if (earlier !== undefined) {
      verdicts.push({ job, ok: { ...earlier, duplicate: true } });
      continue;
    }
    if (request.ifMatch !== undefined && request.ifMatch !== version) {
      const detail = `entity is at version ${version}, not ${request.ifMatch}`;
      verdicts.push({
        job,
        error: new HostError(Problem.preconditionFailed, detail, { extensions: { version } }),
      });
      continue;
    }
    try {
      const started = observer.handled ? performance.now() : 0;
      const result = request.model.execute(request.command, state, request.data, job.ctx);
      if (observer.handled) {
        observer.handled(
          request.model.name,
          request.command,
          (performance.now() - started) / 1000,
          job.request.trace,
        );
      }
      if (result.kind === "rejected") {
        verdicts.push({ job, error: new CommandRejected(result.reason, result.details) });
        continue;
      }
      const timers =
        result.timers === undefined
          ? undefined
          : toTimerChanges(request.model, request.command, result.timers, (context.now ?? Date.now)());
      const outbox = outboxMessages(request.model, job, version, result.events);
      const effects = {
        events: result.events,
        reply: result.reply,
        ...(timers === undefined ? {} : { timers }),
        ...(outbox ? { outbox } : {}),
      };
      state = result.state;
      version += result.events.length;
      const replyId = context.newId();
      if (request.dedupId === undefined || !hasEffects(effects)) {
        verdicts.push({ job, effects, version, replyId });
      } else {
        const record: DedupRecord = { version, reply: result.reply, replyId };
        (decidedHere ??= new Map()).set(request.dedupId, record);
        verdicts.push({ job, effects, version, replyId, dedup: [request.dedupId, record] });
      }
      changes ||= hasEffects(effects);
    } catch (error) {
      verdicts.push({ job, error: toHostError(error) });
    }
  }
  return { base, state, version, verdicts, changes };
}
