import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { timerAppend } from "../../bench/lib/timer-append.mjs";
import type { RedisStore } from "../../src/store/redis-store.js";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { connectRedisStore } from "../support/redis-store.js";

/**
 * Durable timers with Redis and real `knstate serve` processes: fired once after they are due,
 * by whichever host is alive, after a kill -9 of the host that scheduled or claimed them, and
 * on the PingSource wake-up of a host that never saw them.
 */

const withRedis = redisAvailable();
const FN = ["reminder"];

interface Reminders {
  readonly fired: ReadonlyArray<{ name: string; message: string; firedAt: string }>;
  readonly pending: readonly string[];
}

let seq = 0;
function send(host: HostProcess, id: string, command: string, data: unknown): Promise<Response> {
  return postEvent(`${host.url}/`, {
    id: `e${++seq}-${Date.now()}`,
    type: `com.example.reminder.${command}`,
    subject: id,
    data,
  });
}

async function read(host: HostProcess, id: string): Promise<{ state: Reminders; version: number }> {
  const res = await fetch(`${host.url}/reminder/${id}`);
  return (await res.json()) as { state: Reminders; version: number };
}

/** Polls until `id` has fired `count` reminders (generous bound: a hung test is not a pass). */
async function firedOn(host: HostProcess, id: string, count = 1, withinMs = 30_000): Promise<Reminders> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { state } = await read(host, id);
    if (state.fired.length >= count) return state;
    if (Date.now() > deadline) throw new Error(`${id}: ${state.fired.length} fired after ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!withRedis)("durable timers with Redis", () => {
  let redis: RedisServer;
  let store: RedisStore;
  const hosts: HostProcess[] = [];
  const spawn = async (env: Record<string, string> = {}) => {
    const host = await spawnHost({
      functions: FN,
      env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url, ...env },
    });
    hosts.push(host);
    return host;
  };

  beforeAll(async () => {
    redis = await startRedis();
    store = await connectRedisStore({ REDIS_URL: redis.url });
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop("SIGKILL")));
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it("fires a 1.5 s timer once, not before 1.5 s, on one host", async () => {
    const host = await spawn();
    const scheduledAt = Date.now();
    expect((await send(host, "one", "schedule", { name: "t", afterMs: 1500, message: "hi" })).status).toBe(
      202,
    );
    expect((await read(host, "one")).state.pending).toEqual(["t"]);
    const state = await firedOn(host, "one");
    const lateness = Date.parse(state.fired[0]!.firedAt) - scheduledAt;
    expect(lateness).toBeGreaterThanOrEqual(1500);
    await sleep(1000);
    const after = await read(host, "one");
    expect(after.state.fired).toHaveLength(1);
    expect(after.state.pending).toEqual([]);
    expect(await store.timers.listTimers({ entityType: "reminder", entityId: "one" })).toEqual([]);
    console.log(`one host: fired ${lateness} ms after scheduling (1500 ms timer)`);
  });

  it("fires a 1.5 s timer once with three hosts polling", async () => {
    const [a, b, c] = await Promise.all([spawn(), spawn(), spawn()]);
    const ids = Array.from({ length: 20 }, (_, i) => `three-${i}`);
    const scheduledAt = Date.now();
    await Promise.all(ids.map((id) => send(a, id, "schedule", { name: "t", afterMs: 1500, message: id })));
    const states = await Promise.all(ids.map((id, i) => firedOn([a, b, c][i % 3]!, id)));
    await sleep(1000);
    for (const id of ids) {
      const { state, version } = await read(b, id);
      expect(state.fired).toHaveLength(1);
      expect(version).toBe(2);
    }
    const late = states.map((s) => Date.parse(s.fired[0]!.firedAt) - scheduledAt);
    for (const ms of late) expect(ms).toBeGreaterThanOrEqual(1500);
    console.log(`three hosts: fired ${Math.min(...late)}–${Math.max(...late)} ms after scheduling`);
  });

  it("fires once after the only host is killed -9 right after scheduling", async () => {
    const first = await spawn();
    const scheduledAt = Date.now();
    await send(first, "crash", "schedule", { name: "t", afterMs: 1500, message: "m" });
    await first.stop("SIGKILL");
    const second = await spawn();
    const state = await firedOn(second, "crash");
    await sleep(500);
    expect((await read(second, "crash")).state.fired).toHaveLength(1);
    expect(Date.parse(state.fired[0]!.firedAt) - scheduledAt).toBeGreaterThanOrEqual(1500);
  });

  it("a timer claimed by a host that died is fired by another after the lease, applied once", async () => {
    const host = await spawn({ KNSTATE_TIMER_POLL_INTERVAL: "0" });
    await send(host, "lease", "schedule", { name: "t", afterMs: 0, message: "m" });
    // A pod claims it (lease 2 s) and dies before its command is committed.
    const claimedAt = Date.now();
    const claimed = await store.timers.claimDue(claimedAt, 100, 2000);
    expect(claimed.map((c) => c.key.entityId)).toContain("lease");
    await host.stop("SIGKILL");
    const other = await spawn();
    const state = await firedOn(other, "lease");
    expect(Date.parse(state.fired[0]!.firedAt) - claimedAt).toBeGreaterThanOrEqual(2000);
    await sleep(500);
    expect((await read(other, "lease")).state.fired).toHaveLength(1);
  });

  it("the PingSource wake-up fires due timers on a host that had none in memory", async () => {
    const first = await spawn({ KNSTATE_TIMER_POLL_INTERVAL: "0" });
    await send(first, "ping", "schedule", { name: "t", afterMs: 0, message: "m" });
    await first.stop("SIGKILL");
    const woken = await spawn({ KNSTATE_TIMER_POLL_INTERVAL: "0" });
    await sleep(300);
    expect((await read(woken, "ping")).state.fired).toHaveLength(0); // no polling: nothing fires alone
    const res = await postEvent(`${woken.url}/`, {
      id: "ping-1",
      type: "dev.knative.sources.ping",
      source: "/apis/v1/namespaces/default/pingsources/timers",
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
    const { state } = await read(woken, "ping");
    expect(state.fired.map((f) => f.name)).toEqual(["t"]);
  });

  it("a recurring timer that missed periods while no host ran fires once for them, then on schedule", async () => {
    const every = 1000;
    const due = Date.now() - 5.5 * every; // five periods missed and half of one
    await store.append({
      key: { entityType: "reminder", entityId: "tick" },
      expectedVersion: 0,
      events: [{ type: "scheduled", data: { name: "tick", afterMs: 0 } }],
      logEvents: true,
      checkDedup: [],
      writeDedup: [],
      dedupTtlMs: 600_000,
      timers: [
        {
          kind: "set",
          timer: { name: "tick", due, every, command: "fire", data: { name: "tick", message: "m" } },
        },
      ],
    });
    const host = await spawn();
    const first = Date.parse((await firedOn(host, "tick")).fired[0]!.firedAt);
    const { fired } = await firedOn(host, "tick", 2);
    // Not one firing per missed period (six at once), but one, then one per period.
    const periods = Math.ceil((Date.now() - first) / every);
    expect(fired.length).toBeLessThanOrEqual(1 + periods + 1);
    expect(fired.length).toBeLessThan(6);
    const [next] = await store.timers.listTimers({ entityType: "reminder", entityId: "tick" });
    expect((next!.due - due) % every).toBe(0);
    expect(next!.due).toBeGreaterThan(Date.now() - 2 * every);
  });

  it("cancels and reschedules through later commands", async () => {
    const host = await spawn();
    await send(host, "edit", "schedule", { name: "a", afterMs: 800, message: "first" });
    await send(host, "edit", "schedule", { name: "a", afterMs: 1200, message: "second" });
    await send(host, "edit", "schedule", { name: "b", afterMs: 300, message: "b" });
    await send(host, "edit", "cancel", { name: "b" });
    const state = await firedOn(host, "edit");
    await sleep(1000);
    const after = (await read(host, "edit")).state;
    expect(state.fired.map((f) => f.message)).toEqual(["second"]);
    expect(after.fired.map((f) => f.message)).toEqual(["second"]);
  });
});

describe.skipIf(!withRedis)("a backlog of due timers with Redis", () => {
  let redis: RedisServer;
  let store: RedisStore;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    store = await connectRedisStore({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await host?.stop("SIGKILL");
    await store?.close();
    await redis?.stop();
  });

  it("10,000 timers due at the same moment all fire, once each", async () => {
    const N = 10_000;
    const due = Date.now() + 2000;
    for (let i = 0; i < N; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, N - i) }, (_, j) =>
          store.append(timerAppend(`bulk-${i + j}`, due, "bulk")),
        ),
      );
    }
    expect(await store.timers.countPending()).toBe(N);
    host = await spawnHost({
      functions: FN,
      env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url },
    });
    const deadline = Date.now() + 300_000;
    while ((await store.timers.countPending()) > 0 && Date.now() < deadline) await sleep(100);
    const drainedMs = Date.now() - due;
    expect(await store.timers.countPending()).toBe(0);
    let fired = 0;
    for (let i = 0; i < N; i += 1000) {
      const checks = await Promise.all(
        Array.from({ length: 1000 }, (_, j) =>
          store.check({ entityType: "reminder", entityId: `bulk-${i + j}` }, []),
        ),
      );
      for (const { version } of checks) {
        expect(version).toBe(2);
        fired++;
      }
    }
    expect(fired).toBe(N);
    console.log(
      `10,000 timers due at once: all fired ${drainedMs} ms after their due time (${Math.round(N / (drainedMs / 1000))}/s)`,
    );
  }, 600_000);
});
