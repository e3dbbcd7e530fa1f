import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/observability/logger.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/**
 * Brokers deliver at least once: every CloudEvent sent twice, to the same replica or to two
 * replicas, at once or one after the other, is applied once and answered identically.
 */

const withRedis = redisAvailable();

interface Answer {
  readonly status: number;
  readonly replyId: string | null;
  readonly body: string;
}

describe.skipIf(!withRedis)("redelivered CloudEvents on Redis", () => {
  let redis: RedisServer;
  let hosts: RunningHost[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const config = loadConfig({ KNSTATE_STORE: "redis", REDIS_URL: redis.url });
    hosts = await Promise.all(
      [1, 2].map(async () => startHost({ store: await RedisStore.connect(config, silentLogger) })),
    );
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.close()));
    await redis?.stop();
  });

  const send = async (host: RunningHost, id: string, counter: string): Promise<Answer> => {
    const res = await postEvent(`${host.url}/`, {
      id,
      type: "com.example.counter.increment",
      subject: counter,
      data: { by: 1 },
    });
    return { status: res.status, replyId: res.headers.get("ce-id"), body: await res.text() };
  };

  const value = async (counter: string) =>
    ((await (await fetch(`${hosts[0]!.url}/counter/${counter}`)).json()) as { state: { value: number } })
      .state.value;

  it.each([
    ["concurrently to the same host", true, false],
    ["concurrently to two hosts", true, true],
    ["one after the other to the same host", false, false],
    ["one after the other to two hosts", false, true],
  ])(
    "applies each of 50 events delivered twice %s once, with the same reply",
    async (_how, concurrent, spread) => {
      const counter = `dedup-${String(concurrent)}-${String(spread)}`;
      const first = hosts[0]!;
      const second = spread ? hosts[1]! : hosts[0]!;
      const answers: Array<[Answer, Answer]> = [];
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const id = `${counter}-${i}`;
          if (concurrent)
            answers.push(await Promise.all([send(first, id, counter), send(second, id, counter)]));
          else answers.push([await send(first, id, counter), await send(second, id, counter)]);
        }),
      );
      for (const [a, b] of answers) {
        expect(a.status).toBe(200);
        expect(b).toEqual(a);
        expect(a.replyId).toBeTruthy();
      }
      expect(new Set(answers.map(([a]) => a.replyId)).size).toBe(50);
      expect(await value(counter)).toBe(50);
    },
  );
});
