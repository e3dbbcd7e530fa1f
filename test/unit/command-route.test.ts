import { describe, expect, it } from "vitest";
import { commandPath } from "../../src/http/command-route.js";

describe("commandPath", () => {
  it("matches /{entity}/{id}/{command}, with a trailing slash or a query", () => {
    expect(commandPath("/cart/c-1/addItem")).toEqual(["cart", "c-1", "addItem"]);
    expect(commandPath("/cart/c-1/addItem/")).toEqual(["cart", "c-1", "addItem"]);
    expect(commandPath("/cart/c%2F1/addItem?x=1")).toEqual(["cart", "c%2F1", "addItem"]);
  });

  it("leaves every other path to the rest of the API", () => {
    for (const path of [
      "/",
      "/cart/c-1",
      "/cart/c-1/events/x",
      "//c-1/addItem",
      "/cart//addItem",
      "/cart/c-1/",
      "cart/c/x",
    ]) {
      expect(commandPath(path), path).toBeUndefined();
    }
  });
});
