import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { postEvent, ROOT, spawnHost, type HostProcess } from "../support/host.js";

/** Runs `knstate serve` to its exit; resolves with the exit code and everything it printed. */
function runServe(
  env: Record<string, string>,
  timeoutMs = 10_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dist/src/cli/bin.js", "serve", "dist/functions/counter"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        METRICS_PORT: "0",
        ADMIN_PORT: "0",
        KNSTATE_HOST: "127.0.0.1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A GET as Knative's queue-proxy and the kubelet send it. */
function probe(port: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path, headers: { "user-agent": "kube-probe/1.34" }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(0));
    req.end();
  });
}

let host: HostProcess | undefined;
afterEach(async () => {
  await host?.stop("SIGKILL");
  host = undefined;
});

describe("Knative runtime contract", () => {
  it("listens on 8080 when PORT is unset", async () => {
    const child = spawn(process.execPath, ["dist/src/cli/bin.js", "serve", "dist/functions/counter"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", METRICS_PORT: "0", ADMIN_PORT: "0", KNSTATE_HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const deadline = Date.now() + 10_000;
    while (!/"port":8080|:8080/.test(output) && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGTERM");
    await exited;
    // Either it listened on 8080, or 8080 was taken on this machine and the failure names it.
    expect(output).toMatch(/"port":8080|EADDRINUSE.*:8080/);
  });

  it.each([8008, 8012, 8013, 8022, 9090, 9091])("refuses the reserved port %i", async (port) => {
    const { code, output } = await runServe({ PORT: String(port) });
    expect(code).not.toBe(0);
    expect(output).toContain(`port ${port} is reserved by Knative`);
  });

  it("refuses a reserved metrics port", async () => {
    const { code, output } = await runServe({
      PORT: String(await freePort()),
      METRICS_PORT: "9090",
      ADMIN_PORT: "0",
    });
    expect(code).not.toBe(0);
    expect(output).toContain("metricsPort 9090 is reserved by Knative");
  });

  it("answers kube-probe readiness and liveness probes fast at a 50 ms cadence from the start", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["dist/src/cli/bin.js", "serve", "dist/functions/counter"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        METRICS_PORT: "0",
        ADMIN_PORT: "0",
        KNSTATE_HOST: "127.0.0.1",
      },
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const started = Date.now();
      // Knative's aggressive readiness probing: one attempt every 50 ms, 100 ms each, up to 10 s.
      let ready = 0;
      for (let i = 0; i < 200 && ready === 0; i++) {
        if ((await probe(port, "/readyz", 100)) === 200) ready = Date.now() - started;
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(ready).toBeGreaterThan(0);
      expect(ready).toBeLessThan(10_000);
      // Within the kubelet's default probe timeout (1 s) every time, also while the modules
      // the first commands do not need load in the background; most of them at once.
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        expect(await probe(port, i % 2 === 0 ? "/readyz" : "/livez", 1000)).toBe(200);
        times.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(Math.max(...times)).toBeLessThan(1000);
      expect(times.sort((a, b) => a - b)[10]).toBeLessThan(50);
      expect(await probe(port, "/healthz", 100)).toBe(200);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
  });

  it("names the Knative service in reply sources", async () => {
    host = await spawnHost({
      functions: ["counter"],
      env: { K_SERVICE: "counter-svc", K_REVISION: "counter-00001" },
    });
    const res = await postEvent(host.url, {
      id: "k1",
      type: "com.example.counter.increment",
      subject: "c1",
      data: { by: 1 },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ce-source")).toBe("/counter-svc/counter");
  });

  it("on SIGTERM under load answers in-flight and late requests, then exits 0", async () => {
    host = await spawnHost({ functions: ["counter"], env: { KNSTATE_SHUTDOWN_TIMEOUT: "10s" } });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const send = (i: number) =>
      new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
        const body = JSON.stringify({ by: 1 });
        const req = request(
          {
            host: "127.0.0.1",
            port: host!.port,
            method: "POST",
            path: "/",
            agent,
            headers: {
              "ce-specversion": "1.0",
              "ce-id": `load-${i}`,
              "ce-source": "/load",
              "ce-type": "com.example.counter.increment",
              "ce-subject": `c${i % 8}`,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on("error", (error) => resolve({ error: error.message }));
        req.end(body);
      });
    // Warm up the connections, then put load in flight and send SIGTERM in the middle of it.
    await Promise.all(Array.from({ length: 16 }, (_, i) => send(-1 - i)));
    let done = 0;
    const inFlight = Array.from({ length: 400 }, (_, i) =>
      send(i).then((r) => {
        done++;
        return r;
      }),
    );
    for (let i = 0; i < 500 && done < 40; i++) await new Promise((r) => setTimeout(r, 2));
    const t0 = Date.now();
    const stopped = host.stop("SIGTERM", 20_000);
    const late = Array.from({ length: 20 }, (_, i) => send(1000 + i));
    const results = await Promise.all(inFlight);
    const lateResults = await Promise.all(late);
    const code = await stopped;
    host = undefined;
    agent.destroy();

    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // Every request, in flight or sent after SIGTERM, was answered in full.
    const errors = [...results, ...lateResults].filter((r) => "error" in r);
    expect(errors).toEqual([]);
    for (const r of [...results, ...lateResults] as { status: number; body: string }[]) {
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toHaveProperty("value");
    }
  });
});
