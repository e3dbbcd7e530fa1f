import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { StoreUnavailable } from "../../src/errors/host-error.js";
import { createLogger, silentLogger, type Logger } from "../../src/observability/logger.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { APPEND_SCRIPT, syntheticCounterAppend } from "../../src/store/redis-scripts.js";
import type { AppendRequest, EntityKey } from "../../src/store/state-store.js";
import { createTestCertificates, redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const withRedis = redisAvailable();

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }), lines };
}

function connect(env: Record<string, string>, logger: Logger = silentLogger): Promise<RedisStore> {
  return RedisStore.connect(loadConfig({ KNSTATE_STORE: "redis", ...env }), logger);
}

const increments = (key: EntityKey, expectedVersion: number, count: number): AppendRequest => ({
  key,
  expectedVersion,
  events: Array.from({ length: count }, () => ({ type: "changed", data: { by: 1 } })),
  logEvents: true,
  checkDedup: [],
  writeDedup: [],
  dedupTtlMs: 60_000,
});

describe.skipIf(!withRedis)("the Redis store", () => {
  let redis: RedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    redis = await startRedis();
    store = await connect({ REDIS_URL: redis.url, K_SERVICE: "store" });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it("keeps hostile entity ids apart, each entity's keys under one hash tag", async () => {
    const ids = [
      "a}b",
      "{x}",
      "}{",
      "..",
      ".",
      "",
      "x".repeat(10_240),
      "x".repeat(10_241),
      "a:b:c:{d}:m",
      "a",
      "a%7Db",
      "%",
      "ключ-🔑",
      "\ud800",
      "\udc00",
      "\u0000",
    ];
    const key = (entityId: string): EntityKey => ({ entityType: "counter", entityId });
    for (const [i, id] of ids.entries()) {
      expect(await store.append(increments(key(id), 0, i + 1))).toEqual({ kind: "ok", version: i + 1 });
    }
    for (const [i, id] of ids.entries()) {
      const loaded = await store.load(key(id), []);
      expect(loaded.version, JSON.stringify(id.slice(0, 20))).toBe(i + 1);
      expect(loaded.events).toHaveLength(i + 1);
    }
    const all = (await redis.cli("--scan", "--pattern", "ks:store:*")).split("\n");
    // Besides the entities: the type's entity index (KNSTATE_ENTITY_INDEX), one sorted set.
    expect(all.filter((k) => k.endsWith(":i"))).toEqual(["ks:store:counter:i"]);
    expect(Number(await redis.cli("ZCARD", "ks:store:counter:i"))).toBe(ids.length);
    const listed = await store.listEntities("counter", { prefix: "", limit: 1000, cursor: undefined });
    expect([...listed.ids].sort()).toEqual([...ids].sort());
    const keys = all.filter((k) => !k.endsWith(":i"));
    const tags = new Set<string>();
    for (const k of keys) {
      const tag = /\{([^{}]+)\}:(?:m|e)$/.exec(k)?.[1];
      expect(tag, k).toBeDefined();
      tags.add(tag!);
    }
    // Fewer events than the spill threshold: each entity is its hash alone.
    expect(keys).toHaveLength(ids.length);
    expect(tags.size).toBe(ids.length);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThan(300);
  });

  it("loads a 20,000-event entity from its snapshot, replaying fewer than snapshotEvery events", async () => {
    // Snapshots every 128 versions, written with the append that crosses a multiple (as the
    // host does): 32 events follow the last snapshot at 19,968.
    const snapshotEvery = 128;
    const build = async (id: string, total: number) => {
      const key: EntityKey = { entityType: "counter", entityId: id };
      for (let version = 0; version < total;) {
        const next = Math.min(total, version + 64);
        const crosses = Math.floor(next / snapshotEvery) > Math.floor(version / snapshotEvery);
        const request = increments(key, version, next - version);
        const result = await store.append(
          crosses ? { ...request, snapshot: { version: next, state: { value: next } } } : request,
        );
        expect(result).toEqual({ kind: "ok", version: next });
        version = next;
      }
      return key;
    };
    const big = await build("history-20000", 20_000);
    const small = await build("history-100", 100);
    const time = async (key: EntityKey) => {
      const samples: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        await store.load(key, ["some-dedup-id"]);
        samples.push(performance.now() - started);
      }
      return samples.sort((a, b) => a - b)[15]!;
    };
    const loaded = await store.load(big, []);
    expect(loaded.version).toBe(20_000);
    expect(loaded.events.length).toBeLessThan(snapshotEvery);
    expect(loaded.events.length).toBe(32);
    const state = loaded.snapshot!.state as { value: number };
    expect(state.value + loaded.events.length).toBe(20_000);
    expect(loaded.snapshot!.version + loaded.events.length).toBe(20_000);
    const [bigMs, smallMs] = [await time(big), await time(small)];
    console.log(
      `median load: 20,000-event entity ${bigMs.toFixed(3)} ms (${loaded.events.length} events replayed), 100-event entity ${smallMs.toFixed(3)} ms`,
    );
    expect((await store.readEvents(big, 19_990)).map((e) => e.version)).toEqual(
      Array.from({ length: 11 }, (_, i) => 19_990 + i),
    );
  });

  it("runs the scripts again as EVAL after Redis lost them (SCRIPT FLUSH, a restart)", async () => {
    const admin = new Redis(redis.url);
    try {
      const k: EntityKey = { entityType: "counter", entityId: "flushed" };
      expect(await store.append(increments(k, 0, 1))).toEqual({ kind: "ok", version: 1 });
      await admin.script("FLUSH");
      expect((await store.load(k, [])).version).toBe(1);
      await admin.script("FLUSH");
      expect(await store.append(increments(k, 1, 1))).toEqual({ kind: "ok", version: 2 });
      await admin.script("FLUSH");
      expect((await store.check(k, ["none"])).version).toBe(2);
    } finally {
      admin.disconnect();
    }
  });

  it("sends the commands of one event-loop turn in one write", async () => {
    // Write system calls of this process (Linux), around 50 appends started in one turn.
    const writes = () => Number(/syscw: (\d+)/.exec(readFileSync("/proc/self/io", "utf8"))![1]);
    const before = writes();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.append(increments({ entityType: "counter", entityId: `turn-${i}` }, 0, 1)),
      ),
    );
    const after = writes();
    expect(results.every((r) => r.kind === "ok")).toBe(true);
    expect(after - before).toBeLessThan(10);
  });

  it("refuses malformed script calls and a stream ahead of the version, writing nothing", async () => {
    const client = new Redis(redis.port, "127.0.0.1");
    try {
      // spill 0: events go straight to the stream, so the first write is an XADD.
      const call = syntheticCounterAppend({ service: "scripts", entityId: "bad", spill: 0 });
      const [meta, events, legacy] = call.keys;
      const args = [...call.args];
      await expect(
        client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, ...args.slice(0, -1)),
      ).rejects.toThrow(/knstate append: wrong number of arguments/);
      await expect(
        client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, args[0]!, "x", ...args.slice(2)),
      ).rejects.toThrow(/knstate append: bad counts/);
      await expect(
        client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, "2", ...args.slice(1)),
      ).rejects.toThrow(/knstate append: unknown encoding/);
      await client.xadd(events!, "5-1", "t", "changed", "d", "{}");
      await expect(client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, ...args)).rejects.toThrow(
        /stream is ahead/,
      );
      expect(await client.exists(meta!, legacy!)).toBe(0);
      expect(await client.xlen(events!)).toBe(1);
      // Anything else in the way of the first write is reported as it is, still writing nothing.
      await client.del(events!);
      await client.set(events!, "not a stream");
      await expect(client.eval(APPEND_SCRIPT, 3, meta!, events!, legacy!, ...args)).rejects.toThrow(
        /knstate append: WRONGTYPE/,
      );
      expect(await client.exists(meta!, legacy!)).toBe(0);

      const good = syntheticCounterAppend({ service: "scripts", entityId: "good" });
      const run = () => client.eval(APPEND_SCRIPT, good.keys.length, ...good.keys, ...good.args);
      expect(await run()).toEqual(["ok", 1]);
      const again = (await run()) as [string, unknown[]];
      expect(again[0]).toBe("duplicate");
    } finally {
      client.disconnect();
    }
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
