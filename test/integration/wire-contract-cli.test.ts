import { describe, expect, it } from "vitest";
import { postEvent, spawnHost } from "../support/host.js";

/** The host held to its wire contract (README "Wire contract") as the `knstate serve` CLI process. */

describe("the knstate CLI", () => {
  it("serves binary and structured events and exits cleanly on SIGTERM", async () => {
    const proc = await spawnHost({ functions: ["counter"] });
    try {
      const binary = await postEvent(proc.url, {
        id: "cli-1",
        type: "com.example.counter.increment",
        subject: "c1",
        data: { by: 2 },
      });
      expect(binary.status).toBe(200);
      expect(binary.headers.get("ce-type")).toBe("com.example.counter.increment.reply");
      expect(await binary.json()).toEqual({ value: 2 });
      const structured = await fetch(proc.url, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({
          specversion: "1.0",
          id: "cli-2",
          source: "/test",
          type: "com.example.counter.increment",
          subject: "c1",
        }),
      });
      expect(await structured.json()).toEqual({ value: 3 });
      expect(structured.headers.get("ce-entityversion")).toBe("2");
      const unknown = await postEvent(proc.url, { id: "cli-3", type: "com.example.echo.say" });
      expect(unknown.status).toBe(400);
      expect(await proc.stop("SIGTERM")).toBe(0);
    } finally {
      await proc.stop("SIGKILL");
    }
  }, 40_000);
});
