import type { DomainEvent } from "../entity/model.js";
import type { HostError } from "../errors/host-error.js";
import type { DedupRecord, OutboxMessage, TimerChange } from "../store/state-store.js";
import type { CommandReply, Job } from "./types.js";

/**
 * What one accepted command asks for besides its new state. Everything here is committed in
 * the same atomic append, or not at all.
 *
 * A new kind of effect (outbox messages, timers set or cancelled, replicated-type operations)
 * is one more optional field here, filled by `decide.ts` from the handler's result, and
 * encoded by `encode.ts` into the matching optional field of the store's `AppendRequest`.
 */
export interface Effects {
  /** Events to append, in order; the entity's version advances by their number. */
  readonly events: readonly DomainEvent[];
  /** The answer to the caller (the reply CloudEvent's data, the HTTP body). */
  readonly reply: unknown;
  // ── Effects of the next capabilities go below, each `readonly name?: …`, and in `hasEffects`. ──
  /** Timers set or cancelled, validated (see timer-effects.ts). */
  readonly timers?: readonly TimerChange[];
  /** Events to publish through the outbox (entities with `publish`); committed with `events`. */
  readonly outbox?: readonly OutboxMessage[] | undefined;
}

/** True when `effects` changes anything in the store (a command that only replies does not). */
export function hasEffects(effects: Effects): boolean {
  return effects.events.length > 0 || (effects.timers?.length ?? 0) > 0;
}

/** A command its handler accepted: its effects and the answer it gets once they are committed. */
export interface Accepted {
  readonly job: Job;
  readonly effects: Effects;
  /** The entity's version after this command. */
  readonly version: number;
  readonly replyId: string;
  /** The record that answers a redelivery of this command the same way (commands with a dedup id). */
  readonly dedup?: readonly [id: string, record: DedupRecord] | undefined;
}

/** A command answered without effects: a redelivery queued behind its first delivery. */
export interface Answered {
  readonly job: Job;
  readonly ok: CommandReply;
}

/** A command that failed on its own (rejected, If-Match, a throwing handler); the others go on. */
export interface Failed {
  readonly job: Job;
  readonly error: HostError;
}

export type Verdict = Accepted | Answered | Failed;

/** The state and version a batch was decided on. */
export interface EntityVersion {
  readonly state: unknown;
  readonly version: number;
}

/**
 * Deciding a batch of commands on one entity: each command's verdict, in order, each seeing
 * the state its predecessors left, and the state and version after all of them.
 */
export interface Decision {
  readonly base: EntityVersion;
  readonly state: unknown;
  readonly version: number;
  readonly verdicts: readonly Verdict[];
  /** True when some accepted command has effects to commit. */
  readonly changes: boolean;
}

/** The answer a verdict gives its caller once the decision is committed. */
export function answerOf(verdict: Verdict): { ok: CommandReply } | { error: HostError } {
  if ("error" in verdict) return { error: verdict.error };
  if ("ok" in verdict) return { ok: verdict.ok };
  const { reply } = verdict.effects;
  return { ok: { reply, version: verdict.version, replyId: verdict.replyId, duplicate: false } };
}
