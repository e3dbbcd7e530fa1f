import type { Redis } from "ioredis";
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
import { startHost, type RunningHost } from "./host.js";
import { freePort } from "./ports.js";
import { startOtlpReceiver, type OtlpReceiver } from "./otlp.js";
import { startRedis, type RedisServer } from "./redis.js";
import { signingKey, startTokenIssuer, type SigningKey, type TokenIssuer } from "./token-issuer.js";

/** A replicated entity with one value of every kind. */
export const board = defineReplicatedEntity({
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

export const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const AUDIENCE = "https://knstate.example.com";

/** An admin answer, loosely typed for the assertions. */
export interface Body {
  readonly [key: string]: unknown;
  readonly oldest: string;
  readonly timers: ReadonlyArray<{ readonly due: string }>;
}

export interface Logged {
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

/** A host with counters, reminders and a replicated board, its admin port open with a token and JWTs. */
export interface ViewsHost {
  readonly store: StateStore;
  readonly running: RunningHost;
  /** The admin port, e.g. http://127.0.0.1:1235 */
  readonly admin: string;
  /** The outbox as the relay reads it (to dead-letter messages). */
  readonly source: OutboxSource;
  /** What the host logged at info and warn. */
  readonly lines: Logged[];
  /** A JWT the API accepts, with these roles. */
  token(roles: string[], sub?: string): Promise<string>;
  /** An admin request (the admin token by default): status and JSON. */
  call(path: string, init?: RequestInit, bearer?: string): Promise<{ status: number; body: Body }>;
  /** A binary CloudEvent incrementing counter `subject`, source /sensors/7. */
  cloudEvent(id: string, subject: string, by: number, traceparent?: string): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The host of the admin views' tests on `kind` (a real redis-server, or the memory store), with
 * `KNSTATE_EVENT_METADATA=full`, tracing to an OTLP receiver, the admin token `s3cret`, and JWTs
 * of a local issuer (`KNSTATE_API_AUTH=jwt`).
 */
export async function startViewsHost(kind: "memory" | "redis"): Promise<ViewsHost> {
  let redis: RedisServer | undefined;
  let store: StateStore;
  let source: OutboxSource;
  const lines: Logged[] = [];
  const issuer: TokenIssuer = await startTokenIssuer();
  const key: SigningKey = await signingKey("k1");
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
    // Publishing on, so the counter fills the outbox; no relay runs in process (only `knstate
    // serve` starts one): the tests play the relay.
    K_SINK: "http://127.0.0.1:9/",
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
  const receiver: OtlpReceiver = await startOtlpReceiver();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_NODE_RESOURCE_DETECTORS: "none" };
  const quiet = createLogger({ level: "silent", format: "json" });
  const tracing: Tracing = (await startTracing(otel, { service: "admin-views", logger: quiet }))!;
  const running = await startHost({
    env,
    store,
    components: [counter, reminder, board] as unknown as Component[],
    auth,
    logger: recordingLogger(lines),
    observer: tracing.observer,
    wrapRequest: tracing.wrapRequest,
  });
  await running.host.listenAdmin(adminPort, "127.0.0.1");
  const admin = `http://127.0.0.1:${adminPort}`;
  return {
    store,
    running,
    admin,
    source,
    lines,
    token: (roles, sub = "ops-alice") => issuer.sign(key, { sub, aud: AUDIENCE, iss: issuer.issuer, roles }),
    async call(path, init = {}, bearer = "s3cret") {
      const response = await fetch(`${admin}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${bearer}`, ...(init.headers as Record<string, string>) },
      });
      return { status: response.status, body: (await response.json()) as Body };
    },
    cloudEvent: (id, subject, by, traceparent) =>
      fetch(`${running.url}/`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "ce-specversion": "1.0",
          "ce-id": id,
          "ce-source": "/sensors/7",
          "ce-type": "com.example.counter.increment",
          "ce-subject": subject,
          ...(traceparent === undefined ? {} : { traceparent }),
        },
        body: JSON.stringify({ by }),
      }),
    async close() {
      await running.close();
      await redis?.stop();
      await issuer.close();
      await tracing.shutdown();
      await receiver.close();
    },
  };
}
