import { setImmediate as turn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { AckBatcher } from "../../src/outbox/ack-batcher.js";
import type { OutboxEntry } from "../../src/outbox/source.js";
import { silentLogger } from "../../src/observability/logger.js";

function entry(stream: string, id: string): OutboxEntry {
  return {
    shard: 0,
    stream,
    id,
    message: { id, entityType: "counter", entityId: "c", version: 1, type: "t", data: null, time: "" },
  };
}

describe("acknowledging published entries", () => {
  it("sends what one turn delivered as one call per stream", async () => {
    const calls: Array<[string, string[]]> = [];
    const batcher = new AckBatcher(
      { ack: (stream, ids) => Promise.resolve(void calls.push([stream, [...ids]])) },
      silentLogger,
    );
    batcher.add(entry("a", "1-0"));
    batcher.add(entry("b", "1-0"));
    batcher.add(entry("a", "2-0"));
    expect(batcher.size).toBe(3);
    expect(calls).toEqual([]);
    await turn();
    await batcher.flush();
    expect(calls).toEqual([
      ["a", ["1-0", "2-0"]],
      ["b", ["1-0"]],
    ]);
    expect(batcher.size).toBe(0);
  });

  it("keeps a batch that failed and sends it with the next one", async () => {
    const calls: Array<[string, string[]]> = [];
    let fail = true;
    const batcher = new AckBatcher(
      {
        ack: (stream, ids) => {
          calls.push([stream, [...ids]]);
          return fail ? Promise.reject(new Error("Redis is down")) : Promise.resolve();
        },
      },
      silentLogger,
    );
    batcher.add(entry("a", "1-0"));
    await batcher.flush();
    expect(batcher.size).toBe(1);
    fail = false;
    batcher.add(entry("a", "2-0"));
    await batcher.flush();
    expect(calls.at(-1)).toEqual(["a", ["1-0", "2-0"]]);
    expect(batcher.size).toBe(0);
  });
});
