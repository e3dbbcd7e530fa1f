import { describe, expect, it } from "vitest";
import { toBinary } from "../../src/cloudevents/reply.js";
import { SinkMessageEncoder, toCloudEvent } from "../../src/outbox/outbox-event.js";
import type { OutboxMessage } from "../../src/store/state-store.js";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** What the relay POSTed before its one-step encoder: the binary mode of `toCloudEvent`, plus `traceparent`. */
function reference(message: OutboxMessage, service: string, overrides: Record<string, string>) {
  const event = toCloudEvent({ shard: 0, stream: "0", id: "1-0", message }, service, overrides);
  const { headers, body } = toBinary(event);
  if (message.traceparent !== undefined) headers.traceparent = message.traceparent;
  return { headers, body };
}

const base: OutboxMessage = {
  id: "cart/c1/3",
  entityType: "cart",
  entityId: "c1",
  version: 3,
  type: "com.example.cart.item-added",
  data: { sku: "a", quantity: 2 },
  time: "2026-01-01T00:00:00.000Z",
};

describe("the binary-mode message of an outbox entry", () => {
  const cases: Array<[string, OutboxMessage, Record<string, string>]> = [
    ["a plain event", base, {}],
    ["with a trace and overrides", { ...base, traceparent: TRACEPARENT }, { tenant: "acme", region: "eu 1" }],
    ["without data", { ...base, data: undefined }, {}],
    ["with null data", { ...base, data: null }, {}],
    [
      "with ids that need percent-encoding",
      { ...base, id: "cart/ä b%/4", entityId: 'ä b%"', type: "com.example.cart.ünï" },
      {},
    ],
  ];
  it.each(cases)("is the binary mode of toCloudEvent: %s", (_name, message, overrides) => {
    const encoder = new SinkMessageEncoder("shop", overrides);
    const expected = reference(message, "shop", overrides);
    // Twice: the second time from the cached `ce-source`.
    expect(encoder.encode(message)).toEqual(expected);
    expect(encoder.encode(message)).toEqual(expected);
  });

  it("gives each entity type its own source", () => {
    const encoder = new SinkMessageEncoder("shop");
    expect(encoder.encode(base).headers["ce-source"]).toBe("/shop/cart");
    expect(encoder.encode({ ...base, entityType: "order" }).headers["ce-source"]).toBe("/shop/order");
  });
});
