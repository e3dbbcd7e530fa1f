import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminHost, type AdminHost } from "../support/admin.js";
import reminder from "../../functions/reminder/index.js";
import { examples, ROOT } from "../support/host.js";
import { freePort } from "../support/ports.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const BIN = join(ROOT, "dist/src/cli/bin.js");
const exec = promisify(execFile);

/** `knstate inspect …` from dist/: exit code, stdout and stderr. */
async function inspect(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, "inspect", ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!redisAvailable())("knstate inspect", () => {
  let redis: RedisServer;
  let host: AdminHost;
  const amounts = [2, 5, -1];
  const started = Date.now() - 1;

  beforeAll(async () => {
    redis = await startRedis();
    host = await startAdminHost(redis.url, {}, undefined, [...examples, reminder] as never);
    await host.command("reminder", "r1", "schedule", { name: "tea", afterMs: 3_600_000, message: "brew" });
    await host.command("counter", "older", "increment", { by: 1 });
    for (const by of amounts) await host.command("counter", "c1", "increment", { by });
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    await redis?.stop();
  });

  it("lists the types", async () => {
    const { code, stdout } = await inspect("types", "--url", host.admin);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^TYPE\s+KIND\s+ENTITIES\s+COMMANDS$/m);
    expect(stdout).toMatch(/^counter\s+event-sourced\s+2\s+increment,decrement,reset,get$/m);
    const json = JSON.parse((await inspect("types", "--url", host.admin, "--json")).stdout) as {
      types: Array<{ type: string; count: number }>;
    };
    expect(json.types.find((t) => t.type === "counter")?.count).toBe(2);
  });

  it("lists the ids of a type, newest first", async () => {
    const { code, stdout } = await inspect("list", "counter", "--url", host.admin);
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toEqual(["c1", "older"]);
    const page = await inspect("list", "counter", "--url", host.admin, "--limit", "1");
    expect(page.stdout.trim()).toBe("c1");
    expect(page.stderr).toMatch(/^more: knstate inspect list counter --cursor \S+$/m);
    expect(
      JSON.parse((await inspect("list", "counter", "--url", host.admin, "--json", "--prefix", "ol")).stdout),
    ).toEqual({
      ids: ["older"],
      cursor: null,
    });
  });

  it("shows an entity now and at a version", async () => {
    const now = await inspect("get", "counter", "c1", "--url", host.admin);
    expect(now.code).toBe(0);
    expect(now.stdout).toContain("counter/c1 at version 3");
    expect(now.stdout).toContain('"value": 6');
    const at = await inspect("get", "counter", "c1", "--at", "2", "--url", host.admin, "--json");
    expect(JSON.parse(at.stdout)).toEqual({ state: { value: 7 }, version: 2 });
  });

  it("shows the events", async () => {
    const { code, stdout } = await inspect("events", "counter", "c1", "--url", host.admin);
    expect(code).toBe(0);
    // Each line: version, when its command was committed, type, data.
    const lines = stdout.trim().split("\n");
    expect(lines.map((line) => line.replace(/ \S+Z /, " <time> ").trimEnd())).toEqual([
      'v1  <time>  changed  {"by":2}',
      'v2  <time>  changed  {"by":5}',
      'v3  <time>  changed  {"by":-1}',
    ]);
    for (const line of lines) expect(Date.parse(line.split(/\s+/)[1]!)).toBeGreaterThan(started);
    const json = JSON.parse(
      (await inspect("events", "counter", "c1", "--url", host.admin, "--json")).stdout,
    ) as {
      events: Array<{ version: number }>;
    };
    expect(json.events.map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it("shows an entity's timers and the outbox", async () => {
    const timers = await inspect("timers", "reminder", "r1", "--url", host.admin);
    expect(timers.code).toBe(0);
    expect(timers.stdout).toMatch(/^NAME\s+DUE\s+COMMAND\s+DATA$/m);
    expect(timers.stdout).toMatch(/^tea\s+\S+Z\s+fire\s+\{"name":"tea","message":"brew"\}$/m);
    expect((await inspect("timers", "counter", "c1", "--url", host.admin)).stdout.trim()).toBe(
      "no pending timers",
    );
    const outbox = await inspect("outbox", "--url", host.admin);
    expect(outbox.code).toBe(0);
    // The counter publishes: its four increments wait in the outbox (no relay runs here).
    expect(outbox.stdout).toMatch(/^waiting: 4 \(oldest \S+Z\)$/m);
    expect(outbox.stdout).toMatch(/^dead letters: 0$/m);
  });

  it("fails with one line: a problem or an unreachable port (1), a usage error (2)", async () => {
    const beyond = await inspect("get", "counter", "c1", "--at", "9", "--url", host.admin);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr.trim().split("\n")).toHaveLength(1);
    expect(beyond.stderr).toContain("400");
    const unreachable = await inspect("types", "--url", `http://127.0.0.1:${await freePort()}`);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(
      /^knstate inspect: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
    );
    const usage = await inspect("get", "counter", "c1", "--at", "-1", "--url", host.admin);
    expect(usage.code).toBe(2);
  });
});
