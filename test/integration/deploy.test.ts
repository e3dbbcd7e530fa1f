import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { deployCommand } from "../../src/cli/deploy-argv.js";
import { buildService } from "../../src/deploy/service.js";
import { startFakeKubeApi, type FakeKubeApi, type FakeKubeOptions } from "../support/fake-kube-api.js";
import { ROOT } from "../support/host.js";

const COUNTER = join(ROOT, "functions/counter");
const REMINDER = join(ROOT, "functions/reminder");
let api: FakeKubeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function run(
  command: "manifest" | "deploy" | "status" | "delete",
  args: string[],
  options: FakeKubeOptions = {},
): Promise<{ code: number; out: string; err: string; api: FakeKubeApi }> {
  api ??= await startFakeKubeApi(options);
  const out: string[] = [];
  const err: string[] = [];
  const code = await deployCommand(
    command,
    args,
    { KUBECONFIG: api.kubeconfig, KNSTATE_DEPLOY_POLL_MS: "20" },
    (line) => out.push(line),
    (line) => err.push(line),
  );
  return { code, out: out.join("\n"), err: err.join("\n"), api };
}

describe("knstate manifest", () => {
  it("prints the Service the options describe", async () => {
    const { code, out } = await run("manifest", [
      COUNTER,
      "--image",
      "registry.example.com/knstate:1.2.3",
      "--namespace",
      "shop",
      "--env",
      "KNSTATE_LOG_LEVEL=debug",
      "--redis-secret",
      "prod-redis",
      "--scale-min",
      "1",
      "--scale-max",
      "30",
      "--concurrency",
      "200",
    ]);
    expect(code).toBe(0);
    const [service, trigger] = parseAllDocuments(out).map((d) => d.toJSON() as Record<string, unknown>);
    expect(trigger).toMatchObject({ kind: "Trigger", metadata: { name: "counter", namespace: "shop" } });
    expect(service).toEqual(
      buildService({
        name: "counter",
        namespace: "shop",
        image: "registry.example.com/knstate:1.2.3",
        functionPath: "/app/dist/functions/counter",
        stateful: true,
        redisSecret: "prod-redis",
        env: { KNSTATE_LOG_LEVEL: "debug" },
        scaleMin: 1,
        scaleMax: 30,
        concurrency: 200,
      }),
    );
  });

  it("refuses what Knative would refuse, naming the problem", async () => {
    const { code, err } = await run("manifest", [COUNTER, "--env", "PORT=9000", "--timeout", "900"]);
    expect(code).toBe(1);
    expect(err).toContain("env PORT is set by Knative");
    expect(err).toContain("timeoutSeconds must be 1-600");
  });
});

describe("knstate deploy against a stand-in Kubernetes API", () => {
  it("server-side applies the Service, waits for Ready and prints the URL", async () => {
    const { code, out, err, api } = await run("deploy", [COUNTER, "--image", "dev.local/knstate:0.1.0"], {
      readyAfterReads: 3,
    });
    expect(err).toBe("");
    expect(code).toBe(0);
    const [apply, ...reads] = api.requests;
    expect(apply).toMatchObject({
      method: "PATCH",
      path: "/apis/serving.knative.dev/v1/namespaces/demo/services/counter",
      contentType: "application/apply-patch+yaml",
      authorization: "Bearer fake-token",
      query: { fieldManager: "knstate", force: "true" },
    });
    expect(apply!.body).toEqual(
      buildService({
        name: "counter",
        namespace: "demo",
        image: "dev.local/knstate:0.1.0",
        functionPath: "/app/dist/functions/counter",
        stateful: true,
      }),
    );
    const serviceReads = reads.filter((r) => r.path.endsWith("/services/counter"));
    expect(serviceReads.length).toBe(3);
    for (const r of serviceReads) expect(r.method).toBe("GET");
    expect(out).toContain("applying service demo/counter");
    expect(out).toContain("waiting: Deploying (waiting for the first pod)");
    expect(out).toContain("service demo/counter is ready at http://counter.demo.127.0.0.1.sslip.io");
  });

  it("applies the Trigger after the Service and waits for it too", async () => {
    const { code, out, api } = await run(
      "deploy",
      [COUNTER, "--image", "x:1", "--broker", "commands", "--dead-letter-sink", "dead-letters"],
      { readyAfterReads: 2 },
    );
    expect(code).toBe(0);
    const patches = api.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.path)).toEqual([
      "/apis/serving.knative.dev/v1/namespaces/demo/services/counter",
      "/apis/eventing.knative.dev/v1/namespaces/demo/triggers/counter",
    ]);
    expect(patches[1]).toMatchObject({
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: "knstate", force: "true" },
      body: {
        kind: "Trigger",
        metadata: { name: "counter", namespace: "demo" },
        spec: {
          broker: "commands",
          subscriber: { ref: { kind: "Service", name: "counter" } },
          delivery: { deadLetterSink: { ref: { name: "dead-letters" } } },
        },
      },
    });
    const triggerReads = api.requests.filter(
      (r) => r.method === "GET" && r.path.endsWith("/triggers/counter"),
    );
    expect(triggerReads.length).toBe(2);
    expect(out).toContain(
      "applying trigger demo/counter (broker commands: com.example.counter.increment, com.example.counter.decrement",
    );
    expect(out).toContain("waiting: SubscriberNotResolved");
    expect(out).toMatch(
      /service demo\/counter is ready at .*\n.*\n?.*trigger demo\/counter is ready: broker commands → counter$/s,
    );
  });

  it("applies the PingSource of a function with timers after its Trigger, waits for it, and deletes it with the Service", async () => {
    const { code, out, api } = await run("deploy", [
      REMINDER,
      "--image",
      "x:1",
      "--ping-schedule",
      "*/5 * * * *",
    ]);
    expect(code).toBe(0);
    const patches = api.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.path)).toEqual([
      "/apis/serving.knative.dev/v1/namespaces/demo/services/reminder",
      "/apis/eventing.knative.dev/v1/namespaces/demo/triggers/reminder",
      "/apis/sources.knative.dev/v1/namespaces/demo/pingsources/reminder-timers",
    ]);
    expect(patches[2]).toMatchObject({
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: "knstate", force: "true" },
      body: {
        apiVersion: "sources.knative.dev/v1",
        kind: "PingSource",
        metadata: { name: "reminder-timers", namespace: "demo" },
        spec: { schedule: "*/5 * * * *", sink: { ref: { kind: "Service", name: "reminder" } } },
      },
    });
    const pingReads = api.requests.filter(
      (r) => r.method === "GET" && r.path.endsWith("/pingsources/reminder-timers"),
    );
    expect(pingReads.length).toBe(2);
    expect(out).toContain(
      'applying pingsource demo/reminder-timers (schedule "*/5 * * * *": wakes reminder for its timers)',
    );
    expect(out).toContain("waiting: SinkNotFound");
    expect(out).toMatch(/pingsource demo\/reminder-timers is ready: "\*\/5 \* \* \* \*" → reminder$/);

    const deleted = await run("delete", ["reminder"]);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toBe(
      "deleted service demo/reminder\ndeleted trigger demo/reminder\ndeleted pingsource demo/reminder-timers",
    );
    expect(deleted.api.objects.size).toBe(0);
  });

  it("applies no PingSource for a function without timers, or with --ping-schedule none", async () => {
    expect((await run("deploy", [COUNTER, "--image", "x:1", "--no-wait"])).code).toBe(0);
    expect(
      (await run("deploy", [REMINDER, "--image", "x:1", "--no-wait", "--ping-schedule", "none"])).code,
    ).toBe(0);
    const paths = api!.requests.filter((r) => r.method === "PATCH").map((r) => r.path);
    expect(paths.some((p) => p.includes("pingsources"))).toBe(false);
    expect(paths).toContain("/apis/serving.knative.dev/v1/namespaces/demo/services/reminder");
  });

  it("fails with Eventing's reason when the Trigger turns Ready=False", async () => {
    const { code, err } = await run("deploy", [COUNTER, "--image", "x:1"], {
      readyAfterReads: 1,
      triggerFail: { reason: "BrokerDoesNotExist", message: 'Broker "default" does not exist' },
    });
    expect(code).toBe(1);
    expect(err).toContain(
      'trigger demo/counter is not ready: BrokerDoesNotExist: Broker "default" does not exist',
    );
  });

  it("fails with Knative's reason when the Service turns Ready=False", async () => {
    const { code, err } = await run("deploy", [COUNTER, "--image", "nope:1", "--namespace", "shop"], {
      fail: { reason: "RevisionFailed", message: 'Unable to fetch image "nope:1"' },
    });
    expect(code).toBe(1);
    expect(err).toContain('shop/counter is not ready: RevisionFailed: Unable to fetch image "nope:1"');
  });

  it("gives up after the wait timeout", async () => {
    const started = Date.now();
    const { code, err } = await run("deploy", [COUNTER, "--image", "x:1", "--wait-timeout", "1s"], {
      never: true,
    });
    expect(code).toBe(1);
    expect(err).toMatch(/demo\/counter was not ready after 1s/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("shows status: revision, Ready condition, URL and replicas", async () => {
    expect((await run("deploy", [COUNTER, "--image", "x:1"], { readyAfterReads: 1 })).code).toBe(0);
    const { code, out, api } = await run("status", ["counter"]);
    expect(code).toBe(0);
    expect(out).toContain("url:       http://counter.demo.127.0.0.1.sslip.io");
    expect(out).toContain("ready:     True");
    expect(out).toContain("revision:  counter-00001");
    expect(out).toContain("replicas:  1 running, 1 desired");
    expect(api.requests.at(-1)).toMatchObject({
      method: "GET",
      path: "/apis/serving.knative.dev/v1/namespaces/demo/revisions/counter-00001",
    });
  });

  it("deletes the Service and reports a missing one with the API's message", async () => {
    expect((await run("deploy", [COUNTER, "--image", "x:1", "--no-wait"])).code).toBe(0);
    const deleted = await run("delete", ["counter"]);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toBe("deleted service demo/counter\ndeleted trigger demo/counter");
    expect(deleted.api.requests.slice(-5).map((r) => `${r.method} ${r.path}`)).toEqual([
      "DELETE /apis/serving.knative.dev/v1/namespaces/demo/services/counter",
      "DELETE /apis/eventing.knative.dev/v1/namespaces/demo/triggers/counter",
      // A function without timers has no PingSource, nor one without --relay separate a relay:
      // looked for, not reported.
      "DELETE /apis/sources.knative.dev/v1/namespaces/demo/pingsources/counter-timers",
      "DELETE /apis/sources.knative.dev/v1/namespaces/demo/sinkbindings/counter-relay-sink",
      "DELETE /apis/apps/v1/namespaces/demo/deployments/counter-relay",
    ]);
    expect(deleted.api.objects.size).toBe(0);
    const again = await run("delete", ["counter"]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(
      'the Kubernetes API answered 404: services.serving.knative.dev "counter" not found',
    );
  });

  it("says what to do without a kubeconfig", async () => {
    const err: string[] = [];
    const code = await deployCommand(
      "status",
      ["counter"],
      { KUBECONFIG: join(ROOT, "does-not-exist") },
      () => {},
      (line) => err.push(line),
    );
    expect(code).toBe(1);
    expect(err.join("\n")).toMatch(/knstate status: .*does-not-exist/);
  });
});
