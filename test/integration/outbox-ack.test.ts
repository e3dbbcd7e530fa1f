import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStreams } from "../../src/outbox/redis-streams.js";
import { OUTBOX_GROUP } from "../../src/store/outbox-keys.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const withRedis = redisAvailable();

describe.skipIf(!withRedis)("acknowledging relayed outbox entries on Redis", () => {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  }, 30_000);
  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });

  it("acknowledges and deletes a batch of more than 500 entries in one call", async () => {
    const streams = new RedisStreams(client);
    const stream = "t:ack:_outbox:0";
    const pipeline = client.pipeline();
    for (let i = 0; i < 1_203; i++) pipeline.xadd(stream, "*", "m", `{"n":${i}}`);
    await pipeline.exec();
    const read = await streams.read(0, stream, "pod-a", 2_000);
    expect(read).toHaveLength(1_203);
    const kept = read.at(-1)!.id;
    await streams.ack(
      stream,
      read.slice(0, -1).map((e) => e.id),
    );
    expect(await client.xlen(stream)).toBe(1);
    const pending = (await client.xpending(stream, OUTBOX_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(1);
    expect((await client.xrange(stream, "-", "+"))[0]![0]).toBe(kept);
  });

  it("deletes the entries of a stream whose consumer group is gone", async () => {
    const stream = "t:ack:_outbox:1";
    const id = await client.xadd(stream, "*", "m", "{}");
    await new RedisStreams(client).ack(stream, [id!]);
    expect(await client.xlen(stream)).toBe(0);
  });
});
