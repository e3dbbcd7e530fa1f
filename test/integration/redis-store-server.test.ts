import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailable } from "../../src/errors/host-error.js";
import type { EntityKey } from "../../src/store/state-store.js";
import { createTestCertificates, redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { captureLogs as capture, connectRedisStore as connect, increments } from "../support/redis-store.js";

const withRedis = redisAvailable();

describe.skipIf(!withRedis)("the Redis store against its server", () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("answers 503 quickly while Redis is down and serves again once it is back", async () => {
    const server = await startRedis();
    const own = await connect({ REDIS_URL: server.url, KNSTATE_REDIS_COMMAND_TIMEOUT: "1s" });
    try {
      const key: EntityKey = { entityType: "counter", entityId: "outage" };
      await own.append(increments(key, 0, 1));
      await own.ping();
      await server.kill9();
      await expect(own.ping()).rejects.toThrow();
      for (const op of [
        () => own.load(key, []),
        () => own.append(increments(key, 1, 1)),
        () => own.check(key, []),
      ]) {
        const started = performance.now();
        await expect(op()).rejects.toBeInstanceOf(StoreUnavailable);
        expect(performance.now() - started).toBeLessThan(2500);
      }
      await server.restart();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await own.ping();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      // No AOF: the restarted server is empty.
      expect(await own.append(increments(key, 0, 1))).toEqual({ kind: "ok", version: 1 });
    } finally {
      await own.close();
      await server.stop();
    }
  });

  it("refuses to start on a server that evicts keys, naming the setting", async () => {
    const server = await startRedis({ extraArgs: ["--maxmemory-policy", "allkeys-lru"] });
    try {
      await expect(connect({ REDIS_URL: server.url })).rejects.toThrow(
        /maxmemory-policy is "allkeys-lru".*noeviction/,
      );
    } finally {
      await server.stop();
    }
  });

  it("authenticates as an ACL user, never logs the password, and warns about AOF and CONFIG", async () => {
    const password = "s3cret-Pa55word";
    const server = await startRedis({
      extraArgs: [
        "--user",
        "default",
        "off",
        "--user",
        "knstate",
        "on",
        `>${password}`,
        "~*",
        "&*",
        "+@all",
        "-config",
      ],
    });
    try {
      const { logger, lines } = capture();
      const own = await connect(
        { REDIS_URL: `redis://knstate:${password}@127.0.0.1:${server.port}` },
        logger,
      );
      await own.ping();
      await own.close();
      expect(lines.join("\n")).toContain("cannot read the Redis configuration");
      expect(lines.join("\n")).toContain("redis://knstate:***@127.0.0.1");
      expect(lines.join("\n")).not.toContain(password);

      const wrong = await connect(
        { REDIS_URL: `redis://knstate:wrong-${password}@127.0.0.1:${server.port}` },
        logger,
      ).then(
        () => "connected",
        (error: Error) => error.message,
      );
      expect(wrong).toMatch(/cannot connect to Redis at redis:\/\/knstate:\*\*\*@.*WRONGPASS/);
      expect(wrong).not.toContain(password);
      expect(lines.join("\n")).not.toContain(password);
    } finally {
      await server.stop();
    }
  });

  it("warns when the server does not log writes to an append-only file", async () => {
    const { logger, lines } = capture();
    const own = await connect({ REDIS_URL: redis.url }, logger);
    await own.close();
    expect(lines.some((l) => l.includes("appendonly is off"))).toBe(true);
  });

  it("connects over TLS with a private CA and refuses a server it cannot verify", async () => {
    const certs = await createTestCertificates();
    const server = await startRedis({ tls: certs });
    try {
      const own = await connect({ REDIS_URL: server.url, KNSTATE_REDIS_TLS_CA_FILE: certs.caFile });
      const key: EntityKey = { entityType: "counter", entityId: "tls" };
      expect(await own.append(increments(key, 0, 2))).toEqual({ kind: "ok", version: 2 });
      await own.close();
      expect(await server.cli("hget", "ks:knstate:counter:{tls}:m", "v")).toBe("2");
      // Without the CA the certificate cannot be verified: no connection, and no plaintext fallback.
      await expect(connect({ REDIS_URL: server.url })).rejects.toThrow(/cannot connect to Redis/);
    } finally {
      await server.stop();
      certs.remove();
    }
  });

  it("refuses plaintext when a TLS CA is configured", async () => {
    await expect(
      connect({ REDIS_URL: redis.url, KNSTATE_REDIS_TLS_CA_FILE: "/nonexistent.pem" }),
    ).rejects.toThrow(/use rediss:\/\//);
  });

  it("answers 503 when fewer replicas than KNSTATE_REDIS_WAIT_REPLICAS acknowledge an append", async () => {
    await redis.cli("config", "set", "repl-diskless-sync-delay", "0");
    const replica = await startRedis({ extraArgs: ["--replicaof", "127.0.0.1", String(redis.port)] });
    try {
      const deadline = Date.now() + 15_000;
      while (!(await replica.cli("info", "replication")).includes("master_link_status:up")) {
        if (Date.now() > deadline) throw new Error("the replica did not sync within 15s");
        await new Promise((r) => setTimeout(r, 50));
      }
      const key: EntityKey = { entityType: "counter", entityId: "replicated" };
      const one = await connect({
        REDIS_URL: redis.url,
        KNSTATE_REDIS_WAIT_REPLICAS: "1",
        K_SERVICE: "store",
      });
      const two = await connect({
        REDIS_URL: redis.url,
        KNSTATE_REDIS_WAIT_REPLICAS: "2",
        KNSTATE_REDIS_WAIT_TIMEOUT: "200ms",
        K_SERVICE: "store",
      });
      try {
        const record = { version: 1, reply: { value: 1 }, replyId: "r1" };
        expect(
          await one.append({ ...increments(key, 0, 1), checkDedup: ["d1"], writeDedup: [["d1", record]] }),
        ).toEqual({ kind: "ok", version: 1 });
        expect((await one.check(key, ["d1"])).duplicates.get("d1")).toEqual(record);
        // A redelivery is answered from its record only once the replicas have it too.
        await expect(two.check(key, ["d1"])).rejects.toBeInstanceOf(StoreUnavailable);
        await expect(two.load(key, ["d1"])).rejects.toBeInstanceOf(StoreUnavailable);
        expect((await two.load(key, [])).version).toBe(1);
        expect(await replica.cli("hget", "ks:store:counter:{replicated}:m", "v")).toBe("1");
        await expect(two.append(increments(key, 1, 1))).rejects.toBeInstanceOf(StoreUnavailable);
        expect(await one.append(increments(key, 1, 1))).toEqual({ kind: "conflict", version: 2 });
      } finally {
        await one.close();
        await two.close();
      }
    } finally {
      await replica.stop();
    }
  });
});
