import { setTimeout as sleep } from "node:timers/promises";
import { CommandRejected, type HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { DedupRecord } from "../store/state-store.js";
import { answerOf, type Verdict } from "./decision.js";
import { Outcome, type PipelineObserver } from "./observer.js";
import type { Job } from "./types.js";

/**
 * Settle: answers commands (and counts the work in flight, so that `drain` can wait for it).
 * Nothing is answered before the effects it reports are committed.
 */
export class Settler {
  readonly #observer: PipelineObserver;
  #active = 0;
  #idle: (() => void) | undefined;

  constructor(observer: PipelineObserver) {
    this.#observer = observer;
  }

  /** Commands and reads accepted and not yet answered. */
  get active(): number {
    return this.#active;
  }

  /** Counts one more command or read in flight. */
  begin(): void {
    this.#active++;
    this.#observer.inFlight?.(1);
  }

  /** Counts a command or read answered. */
  end(): void {
    this.#active--;
    this.#observer.inFlight?.(-1);
    if (this.#active === 0 && this.#idle) {
      this.#idle();
      this.#idle = undefined;
    }
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return true;
    const idle = new Promise<boolean>((resolve) => (this.#idle = () => resolve(true)));
    const timer = sleep(timeoutMs, false, { ref: false });
    return Promise.race([idle, timer]);
  }

  /** Answers each command as its verdict says. */
  settle(verdicts: readonly Verdict[]): void {
    const now = performance.now();
    for (const verdict of verdicts) {
      const { job } = verdict;
      const { model, command, trace } = job.request;
      const seconds = (now - job.startedAt) / 1000;
      const answer = answerOf(verdict);
      if ("ok" in answer) {
        this.#observer.commandFinished?.(model.name, command, Outcome.ok, seconds, trace);
        job.resolve(answer.ok);
      } else {
        this.#observer.commandFinished?.(model.name, command, outcomeOf(answer.error), seconds, trace);
        job.reject(answer.error);
      }
      this.end();
    }
  }

  /** Fails every command of `jobs` with `error`. */
  fail(jobs: readonly Job[], error: HostError): void {
    this.settle(jobs.map((job) => ({ job, error })));
  }

  /** Answers redeliveries from their dedup records and returns the jobs still to run. */
  settleDuplicates(jobs: readonly Job[], duplicates: ReadonlyMap<string, DedupRecord>): readonly Job[] {
    if (duplicates.size === 0) return jobs;
    const rest: Job[] = [];
    for (const job of jobs) {
      const record = job.request.dedupId === undefined ? undefined : duplicates.get(job.request.dedupId);
      if (record === undefined) {
        rest.push(job);
        continue;
      }
      this.#observer.dedupHit?.(job.request.model.name);
      this.settle([
        {
          job,
          ok: { reply: record.reply, version: record.version, replyId: record.replyId, duplicate: true },
        },
      ]);
    }
    return rest;
  }
}

function outcomeOf(error: HostError): Outcome {
  if (error instanceof CommandRejected) return Outcome.rejected;
  if (error.problem === Problem.conflictExhausted) return Outcome.conflictExhausted;
  if (error.status === 412) return Outcome.rejected;
  return error.status < 500 ? Outcome.invalid : Outcome.error;
}
