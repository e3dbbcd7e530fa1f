import { describe, expect, it } from "vitest";
import { testAction } from "knstate/testkit";
import echo from "./index.js";

describe("echo", () => {
  it("replies with the data it was given", async () => {
    expect(await testAction(echo).run("say", { hello: "world", n: [1, 2] })).toEqual({
      hello: "world",
      n: [1, 2],
    });
  });

  it("replies with an empty object when there is no data", async () => {
    expect(await testAction(echo).run("say")).toEqual({});
  });
});
