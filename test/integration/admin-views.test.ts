import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import counter from "../../functions/counter/index.js";
import reminder from "../../functions/reminder/index.js";
import { createAuth, parseAuthSettings } from "../../src/auth/index.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { Component } from "../../src/entity/define.js";
import {
  counter as counterValue,
  defineReplicatedEntity,
  flag,
  lease,
  map,
  register,
  set,
  vote,
} from "../../src/index.js";
import { createLogger, silentLogger, type Logger } from "../../src/observability/logger.js";
import { startTracing } from "../../src/observability/start-tracing.js";
import type { Tracing } from "../../src/observability/tracing.js";
import { MemoryOutboxSource } from "../../src/outbox/memory-source.js";
import { RedisOutboxSource } from "../../src/outbox/redis-source.js";
import type { OutboxSource } from "../../src/outbox/source.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { StateStore } from "../../src/store/state-store.js";
import { startHost, type RunningHost } from "../support/host.js";
import { freePort } from "../support/ports.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { signingKey, startTokenIssuer, type SigningKey, type TokenIssuer } from "../support/token-issuer.js";

/** A replicated entity with one value of every kind. */
const board = defineReplicatedEntity({
  name: "board",
  typePrefix: "com.example",
  values: {
    hits: counterValue(),
    tags: set<string>(),
    title: register<string>(),
    open: flag(),
    votes: vote<boolean>(),
    lock: lease(),
    perUser: map(counterValue()),
  },
  commands: {
    fill: (_b, cmd: { user: string }, { ops }) => [
      ops.hits.increment(3),
      ops.tags.add("red"),
      ops.title.set("Board one"),
      ops.open.enable(),
      ops.votes.vote(cmd.user, true),
      ops.lock.acquire(cmd.user, 60_000),
      ops.perUser.at(cmd.user).increment(2),
    ],
  },
});

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const AUDIENCE = "https://knstate.example.com";

/** An admin answer, loosely typed for the assertions. */
interface Body {
  readonly [key: string]: unknown;
  readonly oldest: string;
  readonly timers: ReadonlyArray<{ readonly due: string }>;
}

interface Logged {
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps what it is given, for the "who did it" assertions. */
function recordingLogger(lines: Logged[]): Logger {
  const keep = (message: string, fields: Record<string, unknown> = {}) =>
    void lines.push({ message, fields });
  const logger: Logger = {
    debug: () => undefined,
    info: keep,
    warn: keep,
    error: () => undefined,
    isEnabled: () => true,
    child: () => logger,
  };
  return logger;
}

for (const kind of ["memory", "redis"] as const) {
  describe.skipIf(kind === "redis" && !redisAvailable())(`the admin views on the ${kind} store`, () => {
    let redis: RedisServer | undefined;
    let store: StateStore;
    let running: RunningHost;
    let admin: string;
    let source: OutboxSource;
    let issuer: TokenIssuer;
    let key: SigningKey;
    let receiver: OtlpReceiver;
    let tracing: Tracing;
    const lines: Logged[] = [];

    beforeAll(async () => {
      issuer = await startTokenIssuer();
      key = await signingKey("k1");
      issuer.publish(key);
      const adminPort = await freePort();
      const env: Record<string, string> = {
        ADMIN_PORT: String(adminPort),
        KNSTATE_EVENT_METADATA: "full",
        KNSTATE_ADMIN_TOKEN: "s3cret",
        KNSTATE_API_AUTH: "jwt",
        KNSTATE_JWT_JWKS_URL: issuer.jwksUrl,
        KNSTATE_JWT_ISSUER: issuer.issuer,
        KNSTATE_JWT_AUDIENCE: AUDIENCE,
        KNSTATE_TRACE_URL: "http://jaeger.example/trace/{traceId}",
      };
      if (kind === "redis") {
        redis = await startRedis();
        env["KNSTATE_STORE"] = "redis";
        env["REDIS_URL"] = redis.url;
        const redisStore = await RedisStore.connect(loadConfig({ ...env, METRICS_PORT: "0" }), silentLogger);
        store = redisStore;
        source = new RedisOutboxSource(redisStore.connection as Redis, "ks", "knstate");
      } else {
        const memory = new MemoryStore();
        store = memory;
        source = new MemoryOutboxSource(memory.outbox);
      }
      const auth = await createAuth(parseAuthSettings(env));
      receiver = await startOtlpReceiver();
      const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_NODE_RESOURCE_DETECTORS: "none" };
      const quiet = createLogger({ level: "silent", format: "json" });
      tracing = (await startTracing(otel, { service: "admin-views", logger: quiet }))!;
      running = await startHost({
        env,
        store,
        components: [counter, reminder, board] as unknown as Component[],
        auth,
        logger: recordingLogger(lines),
        observer: tracing.observer,
        wrapRequest: tracing.wrapRequest,
      });
      await running.host.listenAdmin(adminPort, "127.0.0.1");
      admin = `http://127.0.0.1:${adminPort}`;
    }, 60_000);

    afterAll(async () => {
      await running?.close();
      await redis?.stop();
      await issuer?.close();
      await tracing?.shutdown();
      await receiver?.close();
    });

    const token = (roles: string[], sub = "ops-alice") =>
      issuer.sign(key, { sub, aud: AUDIENCE, iss: issuer.issuer, roles });
    const call = async (path: string, init: RequestInit = {}, bearer = "s3cret") => {
      const response = await fetch(`${admin}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${bearer}`, ...(init.headers as Record<string, string>) },
      });
      return { status: response.status, body: (await response.json()) as Body };
    };
    const cloudEvent = (id: string, subject: string, by: number, traceparent?: string) =>
      fetch(`${running.url}/`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: "",
          "ce-specversion": "1.0",
          "ce-id": id,
          "ce-source": "/sensors/7",
          "ce-type": "com.example.counter.increment",
          "ce-subject": subject,
          ...(traceparent === undefined ? {} : { traceparent }),
        },
        body: JSON.stringify({ by }),
      });

    it("admits a JWT with the admin role, names its subject in the log, and refuses one without", async () => {
      expect((await call("/api/types", {}, await token(["knstate-admin"]))).status).toBe(200);
      expect((await call("/api/types", {}, await token(["reader"]))).status).toBe(401);
      expect((await call("/api/types", {}, "not-a-token")).status).toBe(401);
      expect((await call("/api/types")).status).toBe(200);
    });

    it("shows each event's time, CloudEvent id and source and trace id", async () => {
      const before = Date.now();
      const ce = await cloudEvent("evt-1", "m1", 4, `00-${TRACE}-00f067aa0ba902b7-01`);
      expect(ce.status).toBeLessThan(300);
      const { status, body } = await call("/api/entities/counter/m1/events");
      expect(status).toBe(200);
      const [event] = body["events"] as Array<Record<string, unknown>>;
      expect(event).toMatchObject({ version: 1, id: "evt-1", source: "/sensors/7", traceId: TRACE });
      const time = Date.parse(event!["time"] as string);
      expect(time).toBeGreaterThanOrEqual(before - 1);
      expect(time).toBeLessThanOrEqual(Date.now() + 1);
      expect((await call("/api/console")).body).toEqual({
        traceUrl: "http://jaeger.example/trace/{traceId}",
        dashboardUrl: null,
      });
    });

    it("keeps each command's metadata when its events move from the hash to the stream", async () => {
      const key = { entityType: "counter", entityId: "long" };
      // 20 commands of 2 events: past 32 events the hash's events move to the stream.
      for (let c = 0; c < 20; c++) {
        const result = await store.append({
          key,
          expectedVersion: 2 * c,
          events: [
            { type: "changed", data: { by: c } },
            { type: "changed", data: { by: -c } },
          ],
          logEvents: true,
          checkDedup: [],
          writeDedup: [],
          dedupTtlMs: 1000,
          meta: [{ time: 1_700_000_000_000 + c, traceId: TRACE, eventId: `cmd-${c}`, source: "/s" }, null],
        });
        expect(result).toEqual({ kind: "ok", version: 2 * c + 2 });
      }
      const { body } = await call("/api/entities/counter/long/events?from=2&limit=40");
      const events = body["events"] as Array<{ version: number; id: string; command: number; time: string }>;
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: 39 }, (_, i) => i + 2));
      for (const e of events) {
        const c = Math.floor((e.version - 1) / 2);
        expect(e).toMatchObject({ id: `cmd-${c}`, command: 2 * c + 1 });
        expect(e.time).toBe(new Date(1_700_000_000_000 + c).toISOString());
      }
      expect((await call("/api/entities/counter/long")).body["state"]).toEqual({ value: 0 });
    });

    it("answers bad input on the new views with 4xx problems", async () => {
      for (const [path, status] of [
        ["/api/outbox?limit=100000", 400],
        ["/api/outbox?limit=-1", 400],
        ["/api/outbox?limit=1&limit=2", 400],
        ["/api/entities/nothing/x/timers", 404],
        ["/api/entities/reminder/nobody/timers", 404],
        ["/api/entities/nothing/x/values", 404],
        ["/api/entities/counter/m1/events?from=0", 400],
      ] as const) {
        const response = await fetch(`${admin}${path}`, { headers: { authorization: "Bearer s3cret" } });
        expect(response.status, path).toBe(status);
        expect(response.headers.get("content-type"), path).toContain("application/problem+json");
      }
      expect((await call("/api/outbox/dead/x/retry", { method: "GET" })).status).toBe(405);
    });

    it("shows an entity's pending timers", async () => {
      // Commands on the public API need a JWT too (KNSTATE_API_AUTH=jwt).
      const response = await fetch(`${running.url}/reminder/r1/schedule`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token([])}` },
        body: JSON.stringify({ name: "tea", afterMs: 3_600_000, message: "brew" }),
      });
      expect(response.ok).toBe(true);
      const { status, body } = await call("/api/entities/reminder/r1/timers");
      expect(status).toBe(200);
      expect(body["timers"]).toEqual([
        expect.objectContaining({ name: "tea", command: "fire", data: { name: "tea", message: "brew" } }),
      ]);
      expect(Date.parse(body.timers[0]!.due)).toBeGreaterThan(Date.now() + 3_000_000);
    });

    it("shows a replicated entity's values, each with its kind", async () => {
      const response = await fetch(`${running.url}/board/b1/fill`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token([])}` },
        body: JSON.stringify({ user: "ann" }),
      });
      expect(response.ok).toBe(true);
      const types = (await call("/api/types")).body["types"] as Array<Record<string, unknown>>;
      expect(types.find((t) => t["type"] === "board")).toMatchObject({ kind: "replicated", listed: false });
      const { status, body } = await call("/api/entities/board/b1/values");
      expect(status).toBe(200);
      const byName = Object.fromEntries(
        (body["values"] as Array<{ name: string; kind: string; value: unknown }>).map((v) => [v.name, v]),
      );
      expect(byName["hits"]).toEqual({ name: "hits", kind: "counter", value: 3 });
      expect(byName["tags"]!.value).toEqual(["red"]);
      expect(byName["title"]!.value).toBe("Board one");
      expect(byName["open"]!.value).toBe(true);
      expect(byName["votes"]).toMatchObject({ kind: "vote", value: { votes: { ann: true }, voters: 1 } });
      expect(byName["lock"]).toMatchObject({ kind: "lease", value: { holder: "ann" } });
      expect(byName["perUser"]).toEqual({ name: "perUser", kind: "map of counter", value: { ann: 2 } });
      expect((await call("/api/entities/board/b1")).body["version"]).toBe(1);
      expect((await call("/api/entities/board/nobody/values")).status).toBe(404);
      expect((await call("/api/entities/counter/m1/values")).status).toBe(400);
      expect((await call("/api/entities/board")).status).toBe(501);
    });

    it("shows the outbox and retries and drops dead letters, logging who did it", async () => {
      for (const id of ["o1", "o2", "o3"]) expect((await cloudEvent(`e-${id}`, id, 1)).status).toBe(200);
      const before = (await call("/api/outbox")).body;
      expect(before["length"]).toBeGreaterThanOrEqual(4);
      expect(Date.parse(before["oldest"])).toBeLessThanOrEqual(Date.now());
      expect(before["oldestMessage"]).toMatchObject({ entityType: "counter", entityId: "m1", version: 1 });
      expect(before["deadCount"]).toBe(0);
      // The relay gives up on two messages (as after a sink's 400s).
      const taken = [];
      for (let shard = 0; shard < source.shards; shard++) {
        expect(await source.acquire(shard, "t", 60_000)).toBe(true);
        taken.push(...(await source.read(shard, "t", 100)));
      }
      const [first, second] = taken.filter((e) => e.message.entityId.startsWith("o"));
      await source.deadLetter(first!, "sink answered 400");
      await source.deadLetter(second!, "sink answered 422");
      const dead = (await call("/api/outbox")).body;
      expect(dead["deadCount"]).toBe(2);
      const letters = dead["deadLetters"] as Array<{
        id: string;
        reason: string;
        message: { entityId: string };
      }>;
      expect(letters.map((d) => d.reason).sort()).toEqual(["sink answered 400", "sink answered 422"]);
      const retried = letters.find((d) => d.message.entityId === first!.message.entityId)!;
      const dropped = letters.find((d) => d.message.entityId === second!.message.entityId)!;

      const lengthBefore = dead["length"] as number;
      expect(
        (
          await call(
            `/api/outbox/dead/${retried.id}/retry`,
            { method: "POST" },
            await token(["knstate-admin"]),
          )
        ).status,
      ).toBe(200);
      expect((await call(`/api/outbox/dead/${dropped.id}`, { method: "DELETE" })).status).toBe(400);
      expect(
        (
          await call(`/api/outbox/dead/${dropped.id}?confirm=${dropped.id}`, {
            method: "DELETE",
            headers: { "x-admin-user": "bob" },
          })
        ).status,
      ).toBe(200);
      expect((await call(`/api/outbox/dead/${dropped.id}/retry`, { method: "POST" })).status).toBe(404);
      expect((await call(`/api/outbox/dead/not-an-id?confirm=not-an-id`, { method: "DELETE" })).status).toBe(
        404,
      );

      const after = (await call("/api/outbox")).body;
      expect(after["deadCount"]).toBe(0);
      expect(after["length"]).toBe(lengthBefore + 1);
      const again = [];
      for (let shard = 0; shard < source.shards; shard++) again.push(...(await source.read(shard, "t", 100)));
      expect(again.map((e) => e.message.id)).toContain(first!.message.id);
      expect(lines).toContainEqual({
        message: "admin: dead letter sent again",
        fields: { user: "jwt:ops-alice", deadLetter: retried.id },
      });
      expect(lines).toContainEqual({
        message: "admin: dead letter dropped",
        fields: { user: "bob", deadLetter: dropped.id },
      });
    });
  });
}
