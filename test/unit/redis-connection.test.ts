import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createClient, parseRedisUrl, redactUrl } from "../../src/store/redis-connection.js";

const config = (env: Record<string, string>) => loadConfig({ KNSTATE_STORE: "redis", ...env });

describe("Redis connection settings", () => {
  it("reads user, password, database and TLS from REDIS_URL", () => {
    const endpoint = parseRedisUrl(config({ REDIS_URL: "rediss://app%40x:p%3Ass%2Fw@redis.example:6380/3" }));
    expect(endpoint).toEqual({
      host: "redis.example",
      port: 6380,
      db: 3,
      username: "app@x",
      password: "p:ss/w",
      tls: { servername: "redis.example" },
    });
    expect(parseRedisUrl(config({ REDIS_URL: "redis://[::1]" }))).toMatchObject({
      host: "::1",
      port: 6379,
      db: 0,
    });
    expect(parseRedisUrl(config({ REDIS_URL: "redis://:only-password@h:1" }))).toMatchObject({
      username: undefined,
      password: "only-password",
      tls: undefined,
    });
  });

  it("refuses other schemes, bad databases and a CA file without TLS", () => {
    expect(() => parseRedisUrl(config({ REDIS_URL: "http://h:1" }))).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl(config({ REDIS_URL: "redis://h:1/x" }))).toThrow(/database "x"/);
    expect(() =>
      parseRedisUrl(config({ REDIS_URL: "redis://h:1", KNSTATE_REDIS_TLS_CA_FILE: "/ca.pem" })),
    ).toThrow(/use rediss:\/\//);
    expect(() =>
      parseRedisUrl(config({ REDIS_URL: "rediss://h:1", KNSTATE_REDIS_TLS_CA_FILE: "/nonexistent/ca.pem" })),
    ).toThrow(/KNSTATE_REDIS_TLS_CA_FILE \/nonexistent\/ca.pem cannot be read/);
  });

  it("never shows the password", () => {
    expect(redactUrl("redis://user:secret@h:1/0")).toBe("redis://user:***@h:1/0");
    expect(redactUrl("redis://h:1")).toBe("redis://h:1");
    expect(redactUrl("not a url secret")).not.toContain("secret");
    expect(() => parseRedisUrl(config({ REDIS_URL: "nope://u:secret@h" }))).toThrow();
    const message = (() => {
      try {
        parseRedisUrl(config({ REDIS_URL: "::u:secret@h" }));
        return "parsed";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/is not a URL/);
    expect(message).not.toContain("secret");
  });

  it("fails fast: no offline queue, bounded retries and timeouts", () => {
    const { client, target } = createClient(
      config({ REDIS_URL: "redis://u:pw@127.0.0.1:1", KNSTATE_REDIS_COMMAND_TIMEOUT: "750ms" }),
    );
    expect(client).toBeInstanceOf(Redis);
    expect(target).toBe("redis://u:***@127.0.0.1:1");
    const options = (client as Redis).options;
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      commandTimeout: 750,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    const delays = Array.from({ length: 20 }, (_, i) => options.retryStrategy!(i + 1) as number);
    expect(delays[0]).toBe(50);
    expect(Math.max(...delays)).toBe(1000);
    client.disconnect();
  });

  it("builds a cluster client from REDIS_CLUSTER_NODES", () => {
    const { client, target } = createClient(
      config({ REDIS_CLUSTER_NODES: "127.0.0.1:7000, 127.0.0.1:7001", REDIS_URL: "rediss://u:pw@ignored:1" }),
    );
    expect(client).toBeInstanceOf(Cluster);
    expect(target).toBe("cluster 127.0.0.1:7000,127.0.0.1:7001 (TLS)");
    expect((client as Cluster).options.redisOptions).toMatchObject({
      username: "u",
      password: "pw",
      tls: {},
    });
    client.disconnect();
    expect(() => createClient(config({ REDIS_CLUSTER_NODES: "nohost" }))).toThrow(/not host:port/);
  });
});
