import { describe, expect, it } from "vitest";
import { Router } from "../../src/http/router.js";

const noop = () => undefined;

/** The routes of the serving port, with handlers that do nothing (only matching is tested). */
function servingRoutes(): Router {
  return new Router()
    .add("POST", "/", "cloudevent", noop)
    .add("GET", "/healthz", "probe", noop)
    .add("POST", "/:entity/:id/:command", "api", noop)
    .add("GET", "/:entity/:id", "api", noop)
    .add("GET", "/:entity/:id/events", "api", noop)
    .add("POST", "/:action/:handler", "api", noop);
}

const commandRoute = new Router().add("POST", "/:entity/:id/:command", "api", noop);
const commandPath = (url: string) => commandRoute.match("POST", url).route;

describe("the command route /{entity}/{id}/{command}", () => {
  it("matches /{entity}/{id}/{command}, with a trailing slash or a query", () => {
    expect(commandRoute.match("POST", "/cart/c-1/addItem")).toMatchObject({
      params: ["cart", "c-1", "addItem"],
    });
    expect(commandRoute.match("POST", "/cart/c-1/addItem/")).toMatchObject({
      params: ["cart", "c-1", "addItem"],
    });
    expect(commandRoute.match("POST", "/cart/c%2F1/addItem?x=1")).toMatchObject({
      params: ["cart", "c%2F1", "addItem"],
    });
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

describe("the router", () => {
  it("prefers the more literal pattern and keeps the method apart", () => {
    const router = servingRoutes();
    expect(router.match("GET", "/counter/c-1/events")).toMatchObject({ params: ["counter", "c-1"] });
    expect(router.match("POST", "/counter/c-1/events")).toMatchObject({
      params: ["counter", "c-1", "events"],
    });
    expect(router.match("POST", "/?from=broker").route?.kind).toBe("cloudevent");
    expect(router.match("HEAD", "/healthz").route?.kind).toBe("probe");
  });

  it("lists the methods a known path allows when asked with another", () => {
    const router = servingRoutes();
    expect(router.match("GET", "/")).toEqual({ allow: ["OPTIONS", "POST"] });
    expect(router.match("DELETE", "/healthz")).toEqual({ allow: ["GET", "HEAD", "OPTIONS"] });
    expect(router.match("PUT", "/counter/x")).toEqual({ allow: ["GET", "HEAD", "OPTIONS", "POST"] });
    expect(router.match("GET", "/counter/x/increment")).toEqual({ allow: ["OPTIONS", "POST"] });
  });

  it("knows no method for an unknown path", () => {
    const router = servingRoutes();
    for (const path of ["/a/b/c/d", "//x", "/counter//increment", "no-slash"]) {
      expect(router.match("GET", path), path).toEqual({ allow: [] });
    }
  });

  it("refuses a pattern that is not an absolute path", () => {
    expect(() => new Router().add("GET", "relative", "api", noop)).toThrow(/invalid route pattern/);
  });
});
