import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT, spawnHost, postEvent, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const run = redisAvailable();

/** The least-privilege ACL shipped for operators: one `user` line, without a password. */
const ACL_FILE = join(ROOT, "knative", "redis-acl.conf");

const counterEvent = (id: string, subject = "c1") => ({
  id,
  type: "com.example.counter.increment",
  subject,
  data: { by: 1 },
});

describe.runIf(run)("Redis security settings", () => {
  let redis: RedisServer | undefined;
  const hosts: HostProcess[] = [];

  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop("SIGKILL", 5000)));
    await redis?.stop();
    redis = undefined;
  });

  it(
    "the documented least-privilege ACL runs the host, and refuses FLUSHALL, KEYS and foreign keys",
    { timeout: 60_000 },
    async () => {
      const line = readFileSync(ACL_FILE, "utf8").trim();
      expect(line.split("\n")).toHaveLength(1);
      expect(line).toMatch(/^user knstate on /);
      expect(line).not.toMatch(/\+@all|allcommands|nopass|\s>/);
      redis = await startRedis({ appendonly: "yes" });
      // As an operator would: the shipped rules plus a password.
      const [, name, ...rules] = line.split(/\s+/);
      expect(await redis.cli("ACL", "SETUSER", name!, ...rules, ">acl-test-password")).toBe("OK");

      const url = `redis://knstate:acl-test-password@127.0.0.1:${redis.port}`;
      const host = await spawnHost({
        env: { KNSTATE_STORE: "redis", KNSTATE_PUBLIC_EVENTS: "true", REDIS_URL: url },
      });
      hosts.push(host);
      for (let i = 0; i < 3; i++) {
        const res = await postEvent(host.url, counterEvent(`acl-${i}`));
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ value: i + 1 });
      }
      const redelivered = await postEvent(host.url, counterEvent("acl-0"));
      expect(await redelivered.json()).toEqual({ value: 1 });
      const events = await fetch(`${host.url}/counter/c1/events`);
      expect(((await events.json()) as { events: unknown[] }).events).toHaveLength(3);
      expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
      expect(host.output()).not.toMatch(/NOPERM|not allowed/i);

      const user = new Redis({
        port: redis.port,
        host: "127.0.0.1",
        username: "knstate",
        password: "acl-test-password",
        maxRetriesPerRequest: 0,
      });
      try {
        expect(await user.ping()).toBe("PONG");
        await expect(user.flushall()).rejects.toThrow(/NOPERM/);
        await expect(user.keys("*")).rejects.toThrow(/NOPERM/);
        await expect(user.call("SCAN", "0")).rejects.toThrow(/NOPERM/);
        await expect(user.del("ks:knstate:counter:{c1}:m")).rejects.toThrow(/NOPERM/);
        await expect(user.get("other-app:secret")).rejects.toThrow(/NOPERM/);
        await expect(user.call("CONFIG", "SET", "appendonly", "no")).rejects.toThrow(/NOPERM/);
        await expect(user.call("SHUTDOWN")).rejects.toThrow(/NOPERM/);
        // Scripts run with the caller's rights: a script cannot reach what the user cannot.
        await expect(user.eval("return redis.call('FLUSHALL')", 0)).rejects.toThrow(
          /NOPERM|user executing the script can.t/i,
        );
        await expect(user.eval("return redis.call('GET', KEYS[1])", 1, "other-app:secret")).rejects.toThrow(
          /NOPERM|user executing the script can.t/i,
        );
      } finally {
        user.disconnect();
      }
      expect(Number(await redis.cli("DBSIZE"))).toBeGreaterThan(0);
    },
  );

  it(
    "never writes the Redis password to its output, even at debug level and on auth failures",
    { timeout: 60_000 },
    async () => {
      const password = "Sup3r-Secret-Pa55word-x9";
      redis = await startRedis({ appendonly: "yes" });
      await redis.cli("CONFIG", "SET", "requirepass", password);
      const url = `redis://:${password}@127.0.0.1:${redis.port}`;
      const env = {
        KNSTATE_STORE: "redis",
        KNSTATE_LOG_LEVEL: "debug",
        KNSTATE_REDIS_COMMAND_TIMEOUT: "500ms",
      };
      const host = await spawnHost({ env: { ...env, REDIS_URL: url } });
      hosts.push(host);
      expect((await postEvent(host.url, counterEvent("secret-1"))).status).toBe(200);
      // A password change under a running host: its reconnects fail authentication.
      await redis.cli(
        "-a",
        password,
        "--no-auth-warning",
        "CONFIG",
        "SET",
        "requirepass",
        `${password}-rotated`,
      );
      await redis.cli("-a", `${password}-rotated`, "--no-auth-warning", "CLIENT", "KILL", "TYPE", "normal");
      const during = await postEvent(host.url, counterEvent("secret-2"));
      expect(during.status).toBe(503);
      const ready = await fetch(`${host.url}/readyz`);
      expect(ready.status).toBe(503);
      const readyBody = await ready.text();
      // Hosts started with the old or a wrong password fail to start, saying why.
      const failures: string[] = [];
      for (const wrong of [url, url.replace(password, `wrong-${password}`)]) {
        try {
          hosts.push(await spawnHost({ env: { ...env, REDIS_URL: wrong } }));
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
      expect(failures).toHaveLength(2);
      for (const failure of failures) expect(failure).toMatch(/WRONGPASS|NOAUTH|auth/i);
      const failedOutput = failures.join("\n");
      await host.stop("SIGTERM");
      const output = host.output() + readyBody + failedOutput;
      expect(output.length).toBeGreaterThan(0);
      expect(output).toContain(`127.0.0.1:${redis.port}`);
      expect(output).not.toContain(password);
      expect(output).not.toContain(encodeURIComponent(password));
    },
  );

  it(
    "refuses to start when maxmemory-policy evicts keys, and says what to set",
    { timeout: 60_000 },
    async () => {
      redis = await startRedis({ appendonly: "yes", extraArgs: ["--maxmemory-policy", "allkeys-lru"] });
      const started = spawnHost({ env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url } });
      await expect(started).rejects.toThrow(/maxmemory-policy is "allkeys-lru".*noeviction/s);
    },
  );

  it("warns at startup when Redis has AOF off", { timeout: 60_000 }, async () => {
    redis = await startRedis({ appendonly: "no" });
    const host = await spawnHost({ env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url } });
    hosts.push(host);
    expect(host.output()).toMatch(/"level":"warn".*appendonly is off/);
    await redis.cli("CONFIG", "SET", "appendonly", "yes");
    const durable = await spawnHost({ env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url } });
    hosts.push(durable);
    expect(durable.output()).not.toMatch(/appendonly is off/);
  });
});
