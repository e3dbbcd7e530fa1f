import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { freePort } from "./ports.js";

/**
 * A real Prometheus for the observability tests: on a free loopback port, with a temporary
 * config and storage directory, scraping the given targets every second. Prometheus has no
 * update check or telemetry to turn off; it only talks to its targets.
 *
 * ```ts
 * const prom = await startPrometheus({ targets: ["127.0.0.1:9464"], labels: { service: "counter" } });
 * const series = await prom.query('sum(knstate_commands_total)');
 * await prom.stop();
 * ```
 */

/**
 * True when `prometheus` and `promtool` can be run. When they cannot, warns loudly so the
 * skipped suite is noticed, and throws when `CI` is set (CI installs the Debian package).
 */
export function prometheusAvailable(): boolean {
  const problems: string[] = [];
  for (const bin of ["prometheus", "promtool"]) {
    // Generous timeout: a loaded machine can take seconds to start a Go binary.
    const probe = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
    if (probe.status !== 0)
      problems.push(`${bin}: ${probe.error?.message ?? `exit ${probe.status ?? probe.signal}`}`);
  }
  if (problems.length === 0) return true;
  const message = `prometheus/promtool cannot run (${problems.join("; ")}): the Prometheus tests are SKIPPED`;
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} (sudo bash .ci/install-tools) !!!!!!!!!!\n`);
  return false;
}

export interface PrometheusOptions {
  /** `host:port` of metrics endpoints, scraped at `/metrics` every second. */
  readonly targets: readonly string[];
  /** Target labels, as the Kubernetes relabeling would set them (`service`, `pod`, …). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Rule files (absolute paths) to load and evaluate every second. */
  readonly ruleFiles?: readonly string[];
}

export interface PrometheusSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface PrometheusServer {
  readonly url: string;
  /** The temporary directory (config, rules, storage); removed by `stop()`. */
  readonly dir: string;
  /** An instant query through the HTTP API; throws with Prometheus's error on a bad query. */
  query(expr: string): Promise<PrometheusSample[]>;
  /** Resolves once every target has been scraped successfully at least `scrapes` times. */
  waitForScrapes(scrapes: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, wait for exit, remove the directory. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "knstate-prometheus-"));
  const port = await freePort();
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: [
      {
        job_name: "knstate",
        static_configs: [{ targets: options.targets, labels: options.labels ?? {} }],
      },
    ],
  };
  writeFileSync(join(dir, "prometheus.yml"), stringify(config));
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      "--storage.tsdb.retention.time=1h",
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 20s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const query = async (expr: string): Promise<PrometheusSample[]> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: PrometheusSample[] };
    };
    if (body.status !== "success") throw new Error(`query failed: ${expr}\n${body.error ?? res.status}`);
    if (body.data?.resultType !== "vector") throw new Error(`not a vector: ${expr}`);
    return body.data.result;
  };

  return {
    url,
    dir,
    query,
    async waitForScrapes(scrapes, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const ups = await query("count_over_time(up[1m])");
        const down = await query("up == 0");
        const count = Math.min(...ups.map((s) => Number(s.value[1])));
        if (ups.length === options.targets.length && down.length === 0 && count >= scrapes) return;
        if (Date.now() > until) throw new Error(`targets not scraped ${scrapes} times within ${timeoutMs}ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop,
  };
}
