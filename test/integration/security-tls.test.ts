import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { freePort } from "../support/ports.js";
import { askRedis, redisAvailable } from "../support/redis.js";
import { makeCertificates, opensslAvailable } from "../support/tls.js";

const run = redisAvailable() && opensslAvailable("the Redis TLS tests");

/** True once the server completes a TLS handshake (trusting `ca`) and answers PING. */
function answersTlsPing(port: number, ca: string): Promise<boolean> {
  return askRedis(port, "PING", { ca: readFileSync(ca), servername: "localhost" }, (reply) =>
    reply.includes("\r\n") ? reply.startsWith("+PONG") : undefined,
  );
}

describe.runIf(run)("Redis over TLS", { timeout: 60_000 }, () => {
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let port: number;
  let redis: ChildProcess | undefined;
  const hosts: HostProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "knstate-tls-"));
    certs = makeCertificates(dir);
    port = await freePort();
    const server = spawn(
      "redis-server",
      [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--tls-cert-file",
        certs.cert,
        "--tls-key-file",
        certs.key,
        "--tls-ca-cert-file",
        certs.ca,
        "--tls-auth-clients",
        "no",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "yes",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    redis = server;
    let output = "";
    server.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 15_000;
    while (!(await answersTlsPing(port, certs.ca))) {
      if (server.exitCode !== null)
        throw new Error(`redis-server with TLS exited (built without TLS?): ${output}`);
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer PING over TLS in 15s: ${output}`);
      await sleep(50);
    }
  });

  afterAll(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop("SIGKILL", 5000)));
    if (redis && redis.exitCode === null) {
      const exited = new Promise((resolve) => redis!.once("exit", resolve));
      redis.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("rediss:// with KNSTATE_REDIS_TLS_CA_FILE: the host connects and commands work", async () => {
    const host = await spawnHost({
      env: {
        KNSTATE_STORE: "redis",
        REDIS_URL: `rediss://127.0.0.1:${port}`,
        KNSTATE_REDIS_TLS_CA_FILE: certs.ca,
      },
    });
    hosts.push(host);
    for (let i = 1; i <= 2; i++) {
      const res = await postEvent(host.url, {
        id: `tls-${i}`,
        type: "com.example.counter.increment",
        subject: "tls",
        data: { by: 1 },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ value: i });
    }
    expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
  });

  it("a certificate from another CA, or no CA file, is refused: the host does not start", async () => {
    for (const caFile of [certs.other, undefined]) {
      const env: Record<string, string> = { KNSTATE_STORE: "redis", REDIS_URL: `rediss://127.0.0.1:${port}` };
      if (caFile !== undefined) env.KNSTATE_REDIS_TLS_CA_FILE = caFile;
      await expect(spawnHost({ env })).rejects.toThrow(/certificate|self.signed|verify/i);
    }
  });

  it("never falls back to plaintext: redis:// to the TLS port fails, and a CA file with redis:// is refused", async () => {
    await expect(
      spawnHost({
        env: {
          KNSTATE_STORE: "redis",
          REDIS_URL: `redis://127.0.0.1:${port}`,
          KNSTATE_REDIS_CONNECT_TIMEOUT: "500ms",
        },
      }),
    ).rejects.toThrow(/host exited|did not become ready/);
    await expect(
      spawnHost({
        env: {
          KNSTATE_STORE: "redis",
          REDIS_URL: `redis://127.0.0.1:${port}`,
          KNSTATE_REDIS_TLS_CA_FILE: certs.ca,
        },
      }),
    ).rejects.toThrow(/use rediss:\/\//);
  });
});
