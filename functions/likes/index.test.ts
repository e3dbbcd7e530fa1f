import { describe, expect, it } from "vitest";
import { testReplicatedEntity } from "knstate";
import likes from "./index.js";

describe("likes", () => {
  it("counts likes and unlikes, by one without data", () => {
    const post = testReplicatedEntity(likes, "post-1");
    expect(post.state).toEqual({ count: 0 });
    expect(post.run("like").reply).toEqual({ count: 1 });
    expect(post.run("like", { by: 5 }).reply).toEqual({ count: 6 });
    expect(post.run("unlike", { by: 2 }).reply).toEqual({ count: 4 });
    expect(post.state).toEqual({ count: 4 });
  });

  it("adds up likes decided concurrently on the same count", () => {
    const post = testReplicatedEntity(likes);
    const pending = Array.from({ length: 10 }, () => post.decide("like", { by: 3 }));
    const replies = pending.map((p) => p.apply().reply);
    expect(replies.at(-1)).toEqual({ count: 30 });
    expect(post.state).toEqual({ count: 30 });
  });

  it.each([
    [{ by: 0 }, /at least 1/],
    [{ by: 1.5 }, /safe integer/],
    [{ by: "2" }, /safe integer/],
    [{ by: 2 ** 53 }, /safe integer/],
    [{ by: 1, extra: true }, /unexpected key "extra"/],
    ["1", /expected an object/],
  ])("refuses data %j as invalid, applying nothing", (data, message) => {
    const post = testReplicatedEntity(likes);
    const run = post.run("like", data);
    expect(run.invalid).toMatch(message);
    expect(run.ops).toEqual([]);
    expect(post.state).toEqual({ count: 0 });
  });

  it("refuses a like that would leave the safe integer range, and keeps the count", () => {
    const post = testReplicatedEntity(likes);
    post.run("like", { by: Number.MAX_SAFE_INTEGER });
    const run = post.run("like");
    expect(run.refused).toMatch(/safe integer range/);
    expect(post.state).toEqual({ count: Number.MAX_SAFE_INTEGER });
  });
});
