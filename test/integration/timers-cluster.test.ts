import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { timerAppend } from "../../bench/lib/timer-append.mjs";
import { createClient } from "../../src/store/redis-connection.js";
import { KeyLayout } from "../../src/store/redis-keys.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { DueSlots } from "../../src/store/redis-timer-slots.js";
import type { Cluster } from "ioredis";
import { keySlot, slotTagOf } from "../../src/store/slot-tags.js";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedisCluster, type RedisCluster } from "../support/redis.js";
import { connectRedisStore } from "../support/redis-store.js";

/**
 * Durable timers on a real Redis Cluster: each entity's timer and its due-index entry are in the
 * entity's slot (one append script), pollers find the slots through the registry, or through the
 * sweep when the pod that scheduled died before registering.
 */

const withRedis = redisAvailable();

interface Reminders {
  readonly fired: ReadonlyArray<{ name: string; message: string; firedAt: string }>;
  readonly pending: readonly string[];
}

let seq = 0;
async function send(host: HostProcess, id: string, command: string, data: unknown): Promise<void> {
  const res = await postEvent(`${host.url}/`, {
    id: `c${++seq}-${Date.now()}`,
    type: `com.example.reminder.${command}`,
    subject: id,
    data,
  });
  expect(res.status).toBe(202);
}

async function read(host: HostProcess, id: string): Promise<{ state: Reminders; version: number }> {
  const res = await fetch(`${host.url}/reminder/${encodeURIComponent(id)}`);
  return (await res.json()) as { state: Reminders; version: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until every id has fired at least once (a generous bound: a hung test is not a pass). */
async function allFired(host: HostProcess, ids: readonly string[], withinMs = 60_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (const id of ids) {
    while ((await read(host, id)).state.fired.length === 0) {
      if (Date.now() > deadline) throw new Error(`${id} did not fire within ${withinMs} ms`);
      await sleep(100);
    }
  }
}

describe.skipIf(!withRedis)("durable timers on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let store: RedisStore;
  const hosts: HostProcess[] = [];
  const env = () => ({
    KNSTATE_STORE: "redis",
    REDIS_CLUSTER_NODES: cluster.nodes.join(","),
    KNSTATE_LOG_LEVEL: "error",
  });

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    store = await connectRedisStore({ REDIS_CLUSTER_NODES: cluster.nodes.join(",") });
  }, 90_000);
  afterAll(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop("SIGKILL")));
    await store?.close();
    await cluster?.stop();
  });

  it("fires timers set on many slots exactly once across two hosts; replaced and cancelled ones do not fire", async () => {
    const [a, b] = await Promise.all([
      spawnHost({ functions: ["reminder"], env: env() }),
      spawnHost({ functions: ["reminder"], env: env() }),
    ]);
    hosts.push(a, b);
    const ids = Array.from({ length: 40 }, (_, i) => `slot-${i}`);
    const layout = new KeyLayout("ks", "knstate");
    const slots = new Set(
      ids.map((id) => keySlot(layout.entity({ entityType: "reminder", entityId: id }).meta)),
    );
    expect(slots.size).toBeGreaterThan(30);
    await Promise.all(
      ids.map((id, i) => send(i % 2 ? a : b, id, "schedule", { name: "t", afterMs: 1000, message: id })),
    );
    // Replaced: the first version would fire first; cancelled: never.
    await send(a, "replaced", "schedule", { name: "t", afterMs: 500, message: "first" });
    await send(b, "replaced", "schedule", { name: "t", afterMs: 1500, message: "second" });
    await send(a, "cancelled", "schedule", { name: "t", afterMs: 500, message: "never" });
    await send(b, "cancelled", "cancel", { name: "t" });
    // The entities (and so their slots' due indexes) are on all three masters.
    const owners = (store.connection as Cluster).slots;
    const masters = new Set(
      ids.map((id) => owners[keySlot(layout.entity({ entityType: "reminder", entityId: id }).meta)]?.[0]),
    );
    expect(masters.size).toBe(3);

    await allFired(a, [...ids, "replaced"]);
    await sleep(2000); // a second firing would show by now (poll 250 ms)
    for (const id of ids) {
      const { state, version } = await read(b, id);
      expect(state.fired.map((f) => f.message)).toEqual([id]);
      expect(state.pending).toEqual([]);
      expect(version).toBe(2);
    }
    expect((await read(a, "replaced")).state.fired.map((f) => f.message)).toEqual(["second"]);
    expect((await read(a, "cancelled")).state.fired).toEqual([]);
    expect(await store.timers.countPending()).toBe(0);
  }, 120_000);

  it("a timer whose slot was never registered (its pod died after the append) is found by the sweep", async () => {
    const key = { entityType: "reminder", entityId: "orphan" };
    await store.append(timerAppend(key.entityId, Date.now(), "o"));
    const layout = new KeyLayout("ks", "knstate");
    await store.afterCommit.idle(); // the registration runs after the reply
    await store.connection.del(layout.dueSlots); // as if the registration after the append never ran
    const pollOnly = await spawnHost({
      functions: ["reminder"],
      env: { ...env(), KNSTATE_TIMER_SWEEP_INTERVAL: "1h" },
    });
    hosts.push(pollOnly);
    // Without the registry entry a host polls nothing due: only its first sweep (at start) finds it.
    await allFired(pollOnly, ["orphan"]);
    await sleep(1000);
    const { state } = await read(pollOnly, "orphan");
    expect(state.fired.map((f) => f.message)).toEqual(["o"]);
    expect(await store.timers.listTimers(key)).toEqual([]);
  }, 90_000);

  it("registers a timer's slot right after the append's reply, not before it", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const config = loadConfig({ KNSTATE_STORE: "redis", REDIS_CLUSTER_NODES: cluster.nodes.join(",") });
    const { client } = createClient(config);
    await client.connect();
    const late = new RedisStore(client, {
      keyPrefix: "ks",
      service: "late-registry",
      waitReplicas: 0,
      waitTimeoutMs: 0,
      holdAfterCommit: () => held,
    });
    try {
      const layout = new KeyLayout("ks", "late-registry");
      const tag = slotTagOf(layout.entity({ entityType: "reminder", entityId: "late" }).meta);
      const due = Date.now() + 600_000;
      expect(await late.append(timerAppend("late", due, "x"))).toEqual({ kind: "ok", version: 1 });
      expect(await store.connection.zscore(layout.dueSlots, tag)).toBeNull();
      release();
      await late.afterCommit.idle();
      expect(await store.connection.zscore(layout.dueSlots, tag)).toBe(String(due));
      expect(late.afterCommit.failed).toBe(0);
    } finally {
      release();
      await late.close();
    }
  });

  it("claims on a cluster take a lease: a claimed timer is hidden from other claims until it ends", async () => {
    const key = { entityType: "reminder", entityId: "leased" };
    const due = Date.now() - 10;
    await store.append(timerAppend(key.entityId, due, "l"));
    await store.afterCommit.idle(); // the slot's registration runs after the reply
    // Indexed in the due index of the entity's own slot, by the append itself.
    const layout = new KeyLayout("ks", "knstate");
    const index = layout.slotDueIndex(slotTagOf(layout.entity(key).meta));
    expect(keySlot(index)).toBe(keySlot(layout.entity(key).meta));
    expect(await store.connection.zscore(index, JSON.stringify(["reminder", "leased", "t"]))).toBe(
      String(due),
    );
    const now = Date.now();
    const first = await store.timers.claimDue(now, 100, 5000);
    expect(first.map((c) => c.key.entityId)).toEqual(["leased"]);
    expect(await store.timers.claimDue(now + 4000, 100, 5000)).toEqual([]);
    const again = await store.timers.claimDue(now + 5001, 100, 5000);
    expect(again.map((c) => c.timer.due)).toEqual([due]);
    await store.timers.settle(key, "t", due, undefined);
    expect(await store.timers.claimDue(now + 60_000, 100, 5000)).toEqual([]);
    expect(await store.timers.listTimers(key)).toEqual([]);
  });

  it("a poller that empties a slot's registry entry puts it back when an append indexed a timer meanwhile", async () => {
    const layout = new KeyLayout("ks", "knstate");
    const client = store.connection as Cluster;
    const slots = new DueSlots(client, layout, 3_600_000);
    const key = { entityType: "reminder", entityId: "raced" };
    const tag = slotTagOf(layout.entity(key).meta);
    const due = Date.now() + 600_000;
    // The append (its script) indexed a timer; its registration has not run yet.
    await client.zadd(layout.slotDueIndex(tag), due, JSON.stringify(["reminder", "raced", "t"]));
    await client.zrem(layout.dueSlots, tag);
    // A poller whose claim saw the slot empty just before: it removes the entry, re-reads, restores it.
    await slots.settled(tag, undefined);
    expect(await client.zscore(layout.dueSlots, tag)).toBe(String(due));
    // A raise to a later score is lowered back the same way.
    await slots.settled(tag, due + 1000);
    expect(await client.zscore(layout.dueSlots, tag)).toBe(String(due));
    await client.zrem(layout.slotDueIndex(tag), JSON.stringify(["reminder", "raced", "t"]));
    await slots.settled(tag, undefined);
    expect(await client.zscore(layout.dueSlots, tag)).toBeNull();
  });
});
