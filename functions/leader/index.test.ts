import { describe, expect, it } from "vitest";
import { testReplicatedEntity } from "knstate";
import leader from "./index.js";

describe("leader", () => {
  it("elects one of two pods racing for the lease", () => {
    const group = testReplicatedEntity(leader, "workers");
    const a = group.decide("acquire", { pod: "a", ttlMs: 10_000 });
    const b = group.decide("acquire", { pod: "b", ttlMs: 10_000 });
    expect(a.apply().reply).toEqual({ leader: true, holder: "a", token: 1 });
    expect(b.apply().reply).toEqual({ leader: false, holder: "a", token: 1 });
  });

  it("renews for the holder, and hands over after the TTL with a higher token", () => {
    const group = testReplicatedEntity(leader);
    group.run("acquire", { pod: "a", ttlMs: 10_000 });
    group.advance(8_000);
    expect(group.run("acquire", { pod: "a", ttlMs: 10_000 }).reply).toMatchObject({ leader: true, token: 1 });
    group.advance(8_000);
    expect(group.run("acquire", { pod: "b", ttlMs: 10_000 }).reply).toMatchObject({ leader: false });
    group.advance(2_001);
    expect(group.run("acquire", { pod: "b", ttlMs: 10_000 }).reply).toEqual({
      leader: true,
      holder: "b",
      token: 2,
    });
  });

  it("refuses a write with the token of an earlier leader", () => {
    const group = testReplicatedEntity(leader);
    group.run("acquire", { pod: "a", ttlMs: 10_000 });
    expect(group.run("write", { token: 1, config: { shards: 4 } }).reply).toEqual({
      written: true,
      token: 1,
    });
    group.run("release", { pod: "a" });
    group.run("acquire", { pod: "b", ttlMs: 10_000 });
    expect(group.run("write", { token: 1, config: { shards: 8 } }).refused).toMatch(/stale/);
    expect(group.state).toEqual({ holder: "b", token: 2, config: { shards: 4 } });
  });

  it.each([
    ["acquire", { pod: "a", ttlMs: 0 }, /ttlMs must be a safe integer of at least 1/],
    ["acquire", { pod: "", ttlMs: 10 }, /pod must be a non-empty string/],
    ["write", { token: 1.5, config: 1 }, /token must be a safe integer of at least 0/],
    ["write", { token: 1 }, /config is required/],
  ])("refuses %s %j as invalid", (command, data, message) => {
    expect(testReplicatedEntity(leader).run(command, data).invalid).toMatch(message);
  });
});
