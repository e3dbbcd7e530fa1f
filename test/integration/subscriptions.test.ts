import { afterEach, describe, expect, it } from "vitest";
import projection from "../../functions/cart-projection/index.js";
import { defineEntity } from "../../src/entity/define.js";
import type { Component } from "../../src/entity/define.js";
import { Registry } from "../../src/host/registry.js";
import { routingOf } from "../../src/deploy/routing.js";
import { buildTrigger } from "../../src/deploy/trigger.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";

/** Counts PingSource ticks per schedule (the entity id is the PingSource's name, from `source`). */
const ticker = defineEntity({
  name: "ticker",
  typePrefix: "com.example",
  initialState: () => ({ ticks: 0 }),
  commands: { tick: () => [{ type: "ticked" as const, data: {} }], get: () => [] },
  events: { ticked: (s: { ticks: number }) => ({ ticks: s.ticks + 1 }) },
  reply: (s) => s,
  subscribe: {
    "dev.knative.sources.ping": {
      command: "tick",
      id: (event) => event.source.split("/").pop(),
      data: () => undefined,
    },
  },
});

const components = [projection, ticker] as unknown as Component[];
let running: RunningHost | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function state(url: string, entity: string, id: string): Promise<unknown> {
  const res = await fetch(`${url}/${entity}/${encodeURIComponent(id)}`);
  return res.status === 404 ? undefined : ((await res.json()) as { state: unknown }).state;
}

describe("subscriptions", () => {
  it("runs the declared command for a PingSource event, once per source and id", async () => {
    running = await startHost({ components });
    const ping = {
      id: "7d0a1c6e-ping-1",
      type: "dev.knative.sources.ping",
      source: "/apis/v1/namespaces/default/pingsources/every-minute",
      data: { message: "tick" },
    };
    for (let i = 0; i < 2; i++) expect((await postEvent(running.url, ping)).status).toBe(202);
    expect(await state(running.url, "ticker", "every-minute")).toEqual({ ticks: 1 });
    expect((await postEvent(running.url, { ...ping, id: "7d0a1c6e-ping-2" })).status).toBe(202);
    expect(await state(running.url, "ticker", "every-minute")).toEqual({ ticks: 2 });
  });

  it("feeds the projection from the cart's published events; a redelivery applies once", async () => {
    running = await startHost({ components });
    const added = (version: number, sku: string, quantity: number) => ({
      id: `cart/c1/${version}`,
      type: "com.example.cart.item-added",
      source: "/shop/cart",
      subject: "c1",
      data: { sku, name: sku, quantity },
    });
    for (const event of [added(1, "s1", 2), added(2, "s2", 1), added(3, "s1", 3), added(1, "s1", 2)]) {
      expect((await postEvent(running.url, event)).status).toBe(202);
    }
    expect(await state(running.url, "cart-stats", "sku:s1")).toEqual({ added: 5, checkouts: 0 });
    expect(await state(running.url, "cart-stats", "sku:s2")).toEqual({ added: 1, checkouts: 0 });
    const checkout = {
      id: "cart/c1/4",
      type: "com.example.cart.checked-out",
      source: "/shop/cart",
      subject: "c1",
    };
    const res = await postEvent(running.url, checkout, { "ce-time": "2026-03-01T10:00:00Z" });
    expect(res.status).toBe(202);
    expect(await state(running.url, "cart-stats", "day:2026-03-01")).toEqual({ added: 0, checkouts: 1 });
  });

  it("answers 400 with a problem when the entity id cannot be derived", async () => {
    running = await startHost({ components });
    const res = await postEvent(running.url, {
      id: "cart/c9/1",
      type: "com.example.cart.item-added",
      source: "/shop/cart",
      subject: "c9",
      data: { name: "no sku", quantity: 1 },
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { type: string; detail: string };
    expect(problem.type).toContain("/problems/no-entity-id");
    expect(problem.detail).toContain("cart-stats.countAdded");
  });

  it("routes the subscribed types and puts them in the Trigger's filters", () => {
    const registry = new Registry(components);
    expect(registry.subscribedTypes.sort()).toEqual([
      "com.example.cart.checked-out",
      "com.example.cart.item-added",
      "dev.knative.sources.ping",
    ]);
    const trigger = buildTrigger(routingOf("projection", components));
    const text = JSON.stringify(trigger.spec.filters);
    for (const type of registry.subscribedTypes) expect(text).toContain(`{"exact":{"type":"${type}"}}`);
    expect(() => new Registry([{ ...ticker, subscribe: { "x.y": "nope" } } as unknown as Component])).toThrow(
      /unknown command nope/,
    );
  });
});
