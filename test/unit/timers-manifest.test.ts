import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { manifestsForFunction } from "../../src/deploy/function-service.js";
import { renderFunctionManifests } from "../../src/deploy/render.js";
import { DEFAULT_PING_SCHEDULE } from "../../src/deploy/ping-source.js";

/**
 * `knstate manifest` adds a PingSource to functions that use timers, pointed at their Service.
 * There is no PingSource CRD among the test fixtures: its shape is checked here.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = (name: string) => join(ROOT, "functions", name);

describe("the PingSource of functions that use timers", () => {
  it("wakes the reminder's Service every minute by default", async () => {
    const { pingSource } = await manifestsForFunction(dir("reminder"), { image: "img" });
    expect(pingSource).toEqual({
      apiVersion: "sources.knative.dev/v1",
      kind: "PingSource",
      metadata: {
        name: "reminder-timers",
        labels: { "app.kubernetes.io/managed-by": "knstate", "knstate.dev/function": "reminder" },
      },
      spec: {
        schedule: DEFAULT_PING_SCHEDULE,
        contentType: "application/json",
        data: '{"wake":"timers"}',
        sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "reminder" } },
      },
    });
  });

  it("takes its schedule and namespace from the options, and none leaves it out", async () => {
    const custom = await manifestsForFunction(dir("order-saga"), {
      image: "img",
      namespace: "shop",
      pingSchedule: "*/5 * * * *",
    });
    expect(custom.pingSource?.spec.schedule).toBe("*/5 * * * *");
    expect(custom.pingSource?.metadata.namespace).toBe("shop");
    const rendered = renderFunctionManifests(custom, "knstate manifest functions/order-saga");
    expect(rendered).toMatch(/kind: PingSource/);
    expect(rendered).toMatch(/late by up to one period plus a cold start/);
    const none = await manifestsForFunction(dir("reminder"), { image: "img", pingSchedule: "none" });
    expect(none.pingSource).toBeUndefined();
  });

  it("is not generated for a function without timers", async () => {
    expect((await manifestsForFunction(dir("counter"), { image: "img" })).pingSource).toBeUndefined();
  });
});
