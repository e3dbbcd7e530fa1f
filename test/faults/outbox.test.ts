import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { spawnHost, type HostProcess } from "../support/host.js";
import { incrementCounter } from "../support/outbox-load.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { inEntityOrder, startSink, type Sink } from "../support/sink.js";

const SERVICE = "outbox-faults";
const GROUP = "knstate-relay";
const STREAMS = [0, 1, 2, 3].map((s) => `ks:${SERVICE}:_outbox:${s}`);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayHost(redis: RedisServer, sink: Sink): Promise<HostProcess> {
  const host = await spawnHost({
    functions: ["counter"],
    env: {
      KNSTATE_STORE: "redis",
      REDIS_URL: redis.url,
      K_SINK: sink.url,
      K_SERVICE: SERVICE,
      KNSTATE_OUTBOX_POLL: "50ms",
      KNSTATE_OUTBOX_LEASE: "1s",
      KNSTATE_OUTBOX_BACKOFF: "20ms",
      KNSTATE_OUTBOX_BACKOFF_MAX: "500ms",
    },
  });
  cleanups.push(() => host.stop("SIGKILL"));
  return host;
}

/**
 * Increments counters `<tag>0..<tag><entities-1>` in a loop on `hosts` until `stop()` holds;
 * the committed event ids (from the replies' entity versions).
 */
async function loadUntil(hosts: readonly HostProcess[], entities: number, tag: string, stop: () => boolean) {
  const committed: string[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: entities }, async (_, e) => {
      for (let i = 0; !stop(); i++) {
        committed.push(await incrementCounter(hosts[n++ % hosts.length]!, tag, e, i));
        await sleep(10);
      }
    }),
  );
  return committed;
}

/** Pending entries of every outbox stream: entry id → consumer. */
async function pending(client: Redis): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const stream of STREAMS) {
    if ((await client.exists(stream)) === 0) continue;
    const rows = (await client.xpending(stream, GROUP, "-", "+", 100_000)) as Array<[string, string]>;
    for (const [id, consumer] of rows) out.set(`${stream} ${id}`, consumer);
  }
  return out;
}

/** The CloudEvent id of each entry named `<stream> <entry id>`. */
async function eventIds(client: Redis, entries: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of entries) {
    const [stream, id] = entry.split(" ") as [string, string];
    const [row] = (await client.xrange(stream, id, id)) as Array<[string, string[]]>;
    ids.push((JSON.parse(row![1][1]!) as { id: string }).id);
  }
  return ids;
}

describe.runIf(redisAvailable())("the outbox relay under faults", () => {
  it("the sink answers 503 for 20 s under load: every committed event arrives once, in per-entity order", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSink(() => 503);
    cleanups.push(() => sink.close());
    const host = await relayHost(redis, sink);
    const client = new Redis(redis.port, "127.0.0.1");
    cleanups.push(() => client.quit());
    const outage = Date.now() + 20_000;
    const committed = await loadUntil([host], 8, "o", () => Date.now() > outage);
    const backlog = (await Promise.all(STREAMS.map((s) => client.xlen(s)))).reduce((a, b) => a + b, 0);
    const refused = sink.received.length;
    sink.answerWith(() => 202);
    const recovered = Date.now();
    await sink.until(() => new Set(sink.acceptedIds()).size >= committed.length);
    const drainS = (Date.now() - recovered) / 1000;
    const accepted = sink.acceptedIds();
    // Every committed event, each accepted once (one relay, no crash: no duplicate), in order.
    expect(new Set(accepted)).toEqual(new Set(committed));
    expect(accepted).toHaveLength(committed.length);
    expect(inEntityOrder(accepted)).toBe(true);
    // The outage held them all back, and the outbox drained afterwards.
    expect(backlog).toBe(committed.length);
    await expect.poll(async () => (await pending(client)).size).toBe(0);
    for (const stream of STREAMS) expect(await client.xlen(stream)).toBe(0);
    console.log(
      `[outbox 503 for 20 s] committed=${committed.length} refused_posts=${refused} drain_s=${drainS.toFixed(2)}`,
    );
  }, 120_000);

  it("three relaying hosts, one killed -9 holding unacknowledged entries: another claims and sends them", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    // Refusing at first: whoever reads entries keeps them pending (delivered, not acknowledged).
    const sink = await startSink(() => 503);
    cleanups.push(() => sink.close());
    const hosts = [await relayHost(redis, sink), await relayHost(redis, sink), await relayHost(redis, sink)];
    const client = new Redis(redis.port, "127.0.0.1");
    cleanups.push(() => client.quit());
    const until = Date.now() + 2000;
    const committed = await loadUntil(hosts, 6, "k", () => Date.now() > until);
    await expect.poll(async () => (await pending(client)).size, { timeout: 20_000 }).toBe(committed.length);
    const before = await pending(client);
    // The host whose consumer holds pending entries (its name has the pid: <hostname>-<pid>-<hex>).
    const holder = [...before.values()][0]!;
    const victim = hosts.find((h) => holder.includes(`-${h.child.pid}-`));
    expect(victim, `a host is consumer ${holder}`).toBeDefined();
    const held = [...before].filter(([, consumer]) => consumer === holder).map(([entry]) => entry);
    expect(held.length).toBeGreaterThan(0);
    await victim!.stop("SIGKILL");
    // After its lease (1 s), a survivor claims every entry the victim held.
    const survivors = hosts.filter((h) => h !== victim).map((h) => `-${h.child.pid}-`);
    await expect
      .poll(
        async () => {
          const now = await pending(client);
          return held.every((e) => survivors.some((s) => now.get(e)?.includes(s)));
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBe(true);
    // The sink recovers: the claimed entries' events arrive, with the rest, in order.
    const claimedIds = await eventIds(client, held);
    sink.answerWith(() => 202);
    await sink.until(() => new Set(sink.acceptedIds()).size >= committed.length);
    const accepted = new Set(sink.acceptedIds());
    for (const id of claimedIds) expect(accepted).toContain(id);
    expect(accepted).toEqual(new Set(committed));
    expect(inEntityOrder(sink.acceptedIds())).toBe(true);
    await expect.poll(async () => (await pending(client)).size).toBe(0);
    console.log(`[outbox kill -9 holder] committed=${committed.length} claimed_from_victim=${held.length}`);
  }, 120_000);
});
