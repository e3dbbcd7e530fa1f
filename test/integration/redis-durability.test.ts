import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/**
 * Redis with `appendonly yes` and `appendfsync always` is killed with SIGKILL in the middle of
 * a stream of increments and restarted on the same port: every increment answered 2xx is
 * still there (its redelivery is answered from its dedup record, with the same reply id),
 * requests during the outage get a quick 503 and never a 2xx, and the host recovers alone.
 */

const withRedis = redisAvailable();
const COUNTERS = 10;

interface Outcome {
  readonly id: string;
  readonly counter: string;
  readonly status: number;
  readonly replyId: string | null;
  readonly body: string;
  readonly ms: number;
}

async function increment(host: HostProcess, id: string, counter: string): Promise<Outcome> {
  const started = performance.now();
  const res = await postEvent(`${host.url}/`, {
    id,
    type: "com.example.counter.increment",
    subject: counter,
    data: { by: 1 },
  });
  const body = await res.text();
  return {
    id,
    counter,
    status: res.status,
    replyId: res.headers.get("ce-id"),
    body,
    ms: performance.now() - started,
  };
}

async function waitReady(host: HostProcess, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const res = await fetch(`${host.url}/readyz`);
    await res.arrayBuffer();
    if (res.status === 200) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the host did not become ready again within ${timeoutMs} ms`);
}

describe.skipIf(!withRedis)("a Redis crash under load (appendfsync always)", () => {
  let redis: RedisServer;
  let host: HostProcess;

  beforeAll(async () => {
    redis = await startRedis({ appendonly: "yes", appendfsync: "always" });
    host = await spawnHost({ functions: ["counter"], env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url } });
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    await redis?.stop();
  });

  it("keeps every acknowledged increment, answers 503 during the outage and recovers", async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    let sent = 0;
    const deadline = Date.now() + 30_000;
    const worker = async () => {
      while (running && sent < 20_000 && Date.now() < deadline) {
        const n = sent++;
        outcomes.push(await increment(host, `dur-${n}`, `dur-${n % COUNTERS}`));
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, worker));

    await new Promise((r) => setTimeout(r, 1000));
    await redis.kill9();
    const killedAt = outcomes.length;
    await new Promise((r) => setTimeout(r, 1500));
    const duringOutage = outcomes.slice(killedAt);
    await redis.restart();
    const recoveryMs = await waitReady(host, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    running = false;
    await load;

    const ok = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 503);
    console.log(
      `Redis crash: ${outcomes.length} increments, ${ok.length} acknowledged, ${refused.length} answered 503, ` +
        `slowest answer ${Math.round(Math.max(...outcomes.map((o) => o.ms)))} ms, ready again ${Math.round(recoveryMs)} ms after restart`,
    );
    expect(outcomes.every((o) => o.status === 200 || o.status === 503)).toBe(true);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(5000);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(duringOutage.some((o) => o.status === 503)).toBe(true);
    expect(ok.length).toBeGreaterThan(killedAt / 2);
    expect(outcomes.slice(-16).some((o) => o.status === 200)).toBe(true);

    // Every acknowledged increment survived: its redelivery is a duplicate with the same reply.
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    const queue = [...byId.values()];
    const finals = new Map<string, Outcome>();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let o = queue.pop(); o !== undefined; o = queue.pop()) {
          let again = await increment(host, o.id, o.counter);
          for (let attempt = 0; again.status === 503 && attempt < 20; attempt++) {
            await new Promise((r) => setTimeout(r, 100));
            again = await increment(host, o.id, o.counter);
          }
          finals.set(o.id, again);
        }
      }),
    );
    for (const first of ok) {
      const again = finals.get(first.id)!;
      expect(again.status, first.id).toBe(200);
      expect({ replyId: again.replyId, body: again.body }, first.id).toEqual({
        replyId: first.replyId,
        body: first.body,
      });
    }
    expect([...finals.values()].every((o) => o.status === 200)).toBe(true);

    // And nothing was applied twice: the counters add up to the number of distinct events.
    let total = 0;
    for (let c = 0; c < COUNTERS; c++) {
      const res = await fetch(`${host.url}/counter/dur-${c}`);
      const { state, version } = (await res.json()) as { state: { value: number }; version: number };
      expect(version).toBe(state.value);
      total += state.value;
    }
    expect(total).toBe(byId.size);
  }, 90_000);
});
