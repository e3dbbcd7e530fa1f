import { describe, expect, it } from "vitest";
import { planShards, ShardBalance, shardOrder, type RelayMembers } from "../../src/outbox/shard-balance.js";

/** Relays announced in process, with a clock the test moves. */
class Members implements RelayMembers {
  readonly expiry = new Map<string, number>();
  now = 0;
  heartbeat(member: string, ttlMs: number): Promise<readonly string[]> {
    this.expiry.set(member, this.now + ttlMs);
    return Promise.resolve([...this.expiry].filter(([, at]) => at > this.now).map(([m]) => m));
  }
  leave(member: string): Promise<void> {
    this.expiry.delete(member);
    return Promise.resolve();
  }
}

/** One round of every relay: give up what its plan says, then take free shards up to its share. */
function round(held: Map<string, Set<number>>, shards: number): void {
  const members = [...held.keys()];
  for (const [self, mine] of held) {
    const plan = planShards({ shards, members, self, held: mine });
    for (const s of plan.release) mine.delete(s);
    const taken = new Set([...held.values()].flatMap((h) => [...h]));
    for (const s of plan.order) {
      if (mine.size >= plan.limit) break;
      if (!taken.has(s)) mine.add(s);
    }
  }
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("spreading outbox shards over relays", () => {
  it("lets a lone relay hold every shard", () => {
    const plan = planShards({ shards: 16, members: ["a"], self: "a", held: all(16) });
    expect(plan.limit).toBe(16);
    expect(plan.release).toEqual([]);
    expect([...plan.order].sort((x, y) => x - y)).toEqual(all(16));
  });

  it("counts the relay itself when the announced relays miss it", () => {
    expect(planShards({ shards: 16, members: ["b"], self: "a", held: [] }).limit).toBe(8);
  });

  it("gives up the least preferred shards beyond ceil(shards / relays)", () => {
    const plan = planShards({ shards: 16, members: ["a", "b", "c"], self: "a", held: all(16) });
    expect(plan.limit).toBe(6);
    expect(plan.release).toHaveLength(10);
    expect(plan.release).toEqual(plan.order.slice(6));
  });

  it("prefers shards the same way whatever order the relays are listed in", () => {
    expect(shardOrder(16, ["a", "b", "c"], "b")).toEqual(shardOrder(16, ["c", "a", "b"], "b"));
    // Different relays prefer different shards first.
    const firsts = ["a", "b", "c", "d"].map((m) => shardOrder(16, ["a", "b", "c", "d"], m).slice(0, 2));
    expect(new Set(firsts.flat()).size).toBe(8);
  });

  it("settles from one relay holding everything to each relay holding its share, then stays", () => {
    for (const shards of [4, 16]) {
      const held = new Map([["pod-a", new Set(all(shards))]]);
      held.set("pod-b", new Set());
      held.set("pod-c", new Set());
      for (let i = 0; i < 3; i++) round(held, shards);
      const sizes = [...held.values()].map((h) => h.size);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.ceil(shards / 3));
      expect(sizes.reduce((a, b) => a + b)).toBe(shards);
      const before = JSON.stringify([...held].map(([m, h]) => [m, [...h].sort()]));
      round(held, shards);
      expect(JSON.stringify([...held].map(([m, h]) => [m, [...h].sort()]))).toBe(before);
    }
  });

  it("gives shards up only when two announcements in a row saw the relay over its share", async () => {
    const members = new Members();
    const a = new ShardBalance(members, { self: "a", shards: 16, ttlMs: 1000 });
    expect((await a.plan(all(16), 0)).release).toEqual([]);
    await members.heartbeat("b", 1000);
    // The first announcement that sees b: not yet.
    const first = await a.plan(all(16), 250);
    expect(first.limit).toBe(8);
    expect(first.release).toEqual([]);
    // Between announcements the view does not change.
    expect((await a.plan(all(16), 300)).release).toEqual([]);
    await members.heartbeat("b", 1000);
    const second = await a.plan(all(16), 500);
    expect(second.release).toHaveLength(8);
    expect(a.relays).toBe(2);
  });

  it("takes back the shards of a relay that left once its announcement expired", async () => {
    const members = new Members();
    const a = new ShardBalance(members, { self: "a", shards: 16, ttlMs: 1000 });
    await members.heartbeat("b", 1000);
    expect((await a.plan([], 0)).limit).toBe(8);
    members.now = 1500;
    expect((await a.plan([], 1500)).limit).toBe(16);
    await members.heartbeat("b", 1000);
    await a.close();
    expect([...members.expiry.keys()]).toEqual(["b"]);
  });
});
