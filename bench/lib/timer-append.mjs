/**
 * A reminder entity's append that schedules one timer, as `functions/reminder` writes it: a
 * `scheduled` event and the timer `t` firing `fire` with `message` at `due` (ms). The timer
 * benchmark and the timer tests write timers straight to the store with it, before a host fires
 * them. Types: timer-append.d.mts.
 */
export function timerAppend(entityId, due, message, expectedVersion = 0) {
  return {
    key: { entityType: "reminder", entityId },
    expectedVersion,
    events: [{ type: "scheduled", data: { name: "t", afterMs: 0 } }],
    logEvents: true,
    checkDedup: [],
    writeDedup: [],
    dedupTtlMs: 600_000,
    timers: [{ kind: "set", timer: { name: "t", due, command: "fire", data: { name: "t", message } } }],
  };
}
