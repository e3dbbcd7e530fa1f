import { describe, expect, it } from "vitest";
import { testReplicatedEntity } from "knstate";
import poll from "./index.js";

describe("poll", () => {
  it("counts each voter once, for their last vote", () => {
    const lunch = testReplicatedEntity(poll, "lunch");
    expect(lunch.run("vote", { voter: "ann", option: "pizza" }).reply).toEqual({
      voter: "ann",
      option: "pizza",
    });
    lunch.run("vote", { voter: "bob", option: "pizza" });
    lunch.run("vote", { voter: "ann", option: "sushi" });
    expect(lunch.run("results").reply).toEqual({ results: { pizza: 1, sushi: 1 }, voters: 2 });
    expect(lunch.state).toEqual({ results: { pizza: 1, sushi: 1 }, voters: 2 });
  });

  it("adds up to the number of voters when votes are decided concurrently", () => {
    const lunch = testReplicatedEntity(poll);
    const pending = ["pizza", "sushi", "pizza", "tacos"].flatMap((option, i) => [
      lunch.decide("vote", { voter: `v${i}`, option: "salad" }),
      lunch.decide("vote", { voter: `v${i}`, option }),
    ]);
    for (const p of pending) p.apply();
    expect(lunch.state).toEqual({ results: { pizza: 2, sushi: 1, tacos: 1 }, voters: 4 });
  });

  it("publishes each applied vote as voted, and nothing for a read", () => {
    const lunch = testReplicatedEntity(poll, "lunch");
    expect(lunch.run("vote", { voter: "ann", option: "pizza" }).published).toEqual([
      { type: "voted", data: { voter: "ann", option: "pizza" } },
    ]);
    expect(lunch.run("results").published).toEqual([]);
  });

  it("reads without applying anything", () => {
    const lunch = testReplicatedEntity(poll);
    const run = lunch.run("results");
    expect(run.ops).toEqual([]);
    expect(run.reply).toEqual({ results: {}, voters: 0 });
  });

  it.each([
    [{ voter: "ann" }, /option must be/],
    [{ voter: "", option: "x" }, /voter must be/],
    [{ voter: "ann", option: "x", weight: 2 }, /unexpected key "weight"/],
    [null, /expected an object/],
  ])("refuses %j as invalid", (data, message) => {
    const lunch = testReplicatedEntity(poll);
    expect(lunch.run("vote", data).invalid).toMatch(message);
    expect(lunch.state).toEqual({ results: {}, voters: 0 });
  });

  it("refuses a voter id over the element size limit", () => {
    const lunch = testReplicatedEntity(poll);
    expect(() => lunch.run("vote", { voter: "v".repeat(2000), option: "x" })).toThrow(/at most 1024/);
    expect(lunch.state).toEqual({ results: {}, voters: 0 });
  });
});
