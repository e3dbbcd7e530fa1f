import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { redisAvailable, startRedis, type RedisServer } from "./redis.js";

/** A redis-server and a client on it, for the suite that called `redisForSuite`. */
export interface SuiteRedis {
  readonly server: RedisServer;
  readonly client: Redis;
}

/**
 * Starts a redis-server and connects a client to it before the enclosing suite's tests, and
 * stops both after them. Read `server` and `client` inside tests and hooks (they are set by
 * then); without redis-server nothing starts, and the suite is skipped (`redisAvailable()`).
 */
export function redisForSuite(): SuiteRedis {
  let server: RedisServer | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    if (!redisAvailable()) return;
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    await client?.quit();
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error("redis-server is started before the suite's tests");
      return server;
    },
    get client() {
      if (client === undefined) throw new Error("redis-server is started before the suite's tests");
      return client;
    },
  };
}
