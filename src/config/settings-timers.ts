import type { SettingSpec } from "./setting.js";

/** Durable timers: how often a warm pod looks for due timers, and how long a claim lasts. */
export const timerSettings = {
  timerPollMs: {
    env: "KNSTATE_TIMER_POLL_INTERVAL",
    kind: "duration",
    default: "250ms",
    doc: "How often a running pod claims due timers (jittered by ±20%); 0 turns polling off (the PingSource wake-up still fires them).",
  },
  timerLeaseMs: {
    env: "KNSTATE_TIMER_LEASE",
    kind: "duration",
    default: "30s",
    doc: "How long a claimed timer is hidden from other pods; a pod that dies while firing leaves it to another after this.",
  },
  timerBatch: {
    env: "KNSTATE_TIMER_BATCH",
    kind: "integer",
    default: "256",
    doc: "Most timers one pod claims at a time (a full batch is followed by the next claim at once).",
  },
  timerSweepMs: {
    env: "KNSTATE_TIMER_SWEEP_INTERVAL",
    kind: "duration",
    default: "60s",
    doc: "Redis Cluster only: how often a pod scans the masters for timers a crashed pod left unregistered (bounds their delay).",
  },
} as const satisfies Record<string, SettingSpec>;
