import { timerMember, type AppendPlan } from "./append-encoding.js";
import type { EntityKey } from "./state-store.js";
import type { ClaimedTimer, StoredTimer, TimerStore } from "./timer-store.js";

/**
 * The memory store's timers: the same layout as Redis in process — per entity a map of name →
 * timer JSON, and a due index of member → score, where a claim moves the score past the lease.
 */
export class MemoryTimers implements TimerStore {
  readonly #byEntity = new Map<string, Map<string, string>>();
  readonly #due = new Map<string, number>();

  /** Applies an append's timer section (called inside the append, after its checks). */
  apply(key: EntityKey, changes: AppendPlan["timers"]): void {
    if (changes.length === 0) return;
    const id = entityOf(key);
    const timers = this.#byEntity.get(id) ?? new Map<string, string>();
    for (const change of changes) {
      if (change.due === "") {
        timers.delete(change.name);
        this.#due.delete(change.member);
      } else {
        timers.set(change.name, change.timer);
        this.#due.set(change.member, Number(change.due));
      }
    }
    if (timers.size === 0) this.#byEntity.delete(id);
    else this.#byEntity.set(id, timers);
  }

  listTimers(key: EntityKey): Promise<StoredTimer[]> {
    const timers = [...(this.#byEntity.get(entityOf(key))?.values() ?? [])].map(
      (raw) => JSON.parse(raw) as StoredTimer,
    );
    return Promise.resolve(timers.sort((a, b) => a.due - b.due));
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<ClaimedTimer[]> {
    const due = [...this.#due].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    const claimed: ClaimedTimer[] = [];
    for (const [member, at] of due.slice(0, limit)) {
      const [entityType, entityId, name] = JSON.parse(member) as [string, string, string];
      const raw = this.#byEntity.get(entityOf({ entityType, entityId }))?.get(name);
      if (raw === undefined) {
        this.#due.delete(member);
        continue;
      }
      this.#due.set(member, Math.max(at, now) + leaseMs);
      claimed.push({ key: { entityType, entityId }, timer: JSON.parse(raw) as StoredTimer });
    }
    return Promise.resolve(claimed);
  }

  settle(key: EntityKey, name: string, firedDue: number, nextDue: number | undefined): Promise<void> {
    const id = entityOf(key);
    const timers = this.#byEntity.get(id);
    const raw = timers?.get(name);
    const member = JSON.stringify([key.entityType, key.entityId, name]);
    if (timers === undefined || raw === undefined) {
      this.#due.delete(member);
      return Promise.resolve();
    }
    const timer = JSON.parse(raw) as StoredTimer;
    if (timer.due !== firedDue) return Promise.resolve(); // replaced meanwhile: indexed at its own time
    if (nextDue === undefined) {
      timers.delete(name);
      this.#due.delete(member);
      if (timers.size === 0) this.#byEntity.delete(id);
    } else {
      timers.set(name, JSON.stringify({ ...timer, due: nextDue }));
      this.#due.set(member, nextDue);
    }
    return Promise.resolve();
  }

  /** Removes every timer of the entity and its due-index members (erasure); returns how many. */
  erase(key: EntityKey): number {
    const id = entityOf(key);
    const timers = this.#byEntity.get(id);
    if (timers === undefined) return 0;
    for (const name of timers.keys()) this.#due.delete(timerMember(key.entityType, key.entityId, name));
    this.#byEntity.delete(id);
    return timers.size;
  }

  countPending(): Promise<number> {
    return Promise.resolve(this.#due.size);
  }

  /** The earliest due time, for a controllable clock (testkit). */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const at of this.#due.values()) if (next === undefined || at < next) next = at;
    return next;
  }
}

function entityOf(key: EntityKey): string {
  return `${key.entityType}\u0000${key.entityId}`;
}
