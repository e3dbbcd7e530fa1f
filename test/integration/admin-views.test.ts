import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewsHost, type ViewsHost } from "../support/admin-views.js";
import { redisAvailable } from "../support/redis.js";

for (const kind of ["memory", "redis"] as const) {
  describe.skipIf(kind === "redis" && !redisAvailable())(`the admin views on the ${kind} store`, () => {
    let host: ViewsHost;
    beforeAll(async () => {
      host = await startViewsHost(kind);
      // The first message of the outbox, and an event-sourced entity to ask wrong questions of.
      expect((await host.cloudEvent("evt-m1", "m1", 4)).status).toBe(200);
    }, 60_000);
    afterAll(async () => {
      await host?.close();
    });
    const call = (...args: Parameters<ViewsHost["call"]>) => host.call(...args);
    const token = (...args: Parameters<ViewsHost["token"]>) => host.token(...args);

    it("answers bad input on the new views with 4xx problems", async () => {
      for (const [path, status] of [
        ["/api/outbox?limit=100000", 400],
        ["/api/outbox?limit=-1", 400],
        ["/api/outbox?limit=1&limit=2", 400],
        ["/api/entities/nothing/x/timers", 404],
        ["/api/entities/reminder/nobody/timers", 404],
        ["/api/entities/nothing/x/values", 404],
        ["/api/entities/counter/m1/events?from=0", 400],
      ] as const) {
        const response = await fetch(`${host.admin}${path}`, { headers: { authorization: "Bearer s3cret" } });
        expect(response.status, path).toBe(status);
        expect(response.headers.get("content-type"), path).toContain("application/problem+json");
      }
      expect((await call("/api/outbox/dead/x/retry", { method: "GET" })).status).toBe(405);
    });

    it("shows an entity's pending timers", async () => {
      // Commands on the public API need a JWT too (KNSTATE_API_AUTH=jwt).
      const response = await fetch(`${host.running.url}/reminder/r1/schedule`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token([])}` },
        body: JSON.stringify({ name: "tea", afterMs: 3_600_000, message: "brew" }),
      });
      expect(response.ok).toBe(true);
      const { status, body } = await call("/api/entities/reminder/r1/timers");
      expect(status).toBe(200);
      expect(body["timers"]).toEqual([
        expect.objectContaining({ name: "tea", command: "fire", data: { name: "tea", message: "brew" } }),
      ]);
      expect(Date.parse(body.timers[0]!.due)).toBeGreaterThan(Date.now() + 3_000_000);
    });

    it("shows a replicated entity's values, each with its kind", async () => {
      const response = await fetch(`${host.running.url}/board/b1/fill`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token([])}` },
        body: JSON.stringify({ user: "ann" }),
      });
      expect(response.ok).toBe(true);
      const types = (await call("/api/types")).body["types"] as Array<Record<string, unknown>>;
      expect(types.find((t) => t["type"] === "board")).toMatchObject({ kind: "replicated", listed: false });
      const { status, body } = await call("/api/entities/board/b1/values");
      expect(status).toBe(200);
      const byName = Object.fromEntries(
        (body["values"] as Array<{ name: string; kind: string; value: unknown }>).map((v) => [v.name, v]),
      );
      expect(byName["hits"]).toEqual({ name: "hits", kind: "counter", value: 3 });
      expect(byName["tags"]!.value).toEqual(["red"]);
      expect(byName["title"]!.value).toBe("Board one");
      expect(byName["open"]!.value).toBe(true);
      expect(byName["votes"]).toMatchObject({ kind: "vote", value: { votes: { ann: true }, voters: 1 } });
      expect(byName["lock"]).toMatchObject({ kind: "lease", value: { holder: "ann" } });
      expect(byName["perUser"]).toEqual({ name: "perUser", kind: "map of counter", value: { ann: 2 } });
      expect((await call("/api/entities/board/b1")).body["version"]).toBe(1);
      expect((await call("/api/entities/board/nobody/values")).status).toBe(404);
      expect((await call("/api/entities/counter/m1/values")).status).toBe(400);
      expect((await call("/api/entities/board")).status).toBe(501);
    });

    it("shows the outbox and retries and drops dead letters, logging who did it", async () => {
      for (const id of ["o1", "o2", "o3"]) expect((await host.cloudEvent(`e-${id}`, id, 1)).status).toBe(200);
      const before = (await call("/api/outbox")).body;
      expect(before["length"]).toBeGreaterThanOrEqual(4);
      expect(Date.parse(before["oldest"])).toBeLessThanOrEqual(Date.now());
      expect(before["oldestMessage"]).toMatchObject({ entityType: "counter", entityId: "m1", version: 1 });
      expect(before["deadCount"]).toBe(0);
      // The relay gives up on two messages (as after a sink's 400s).
      const taken = [];
      for (let shard = 0; shard < host.source.shards; shard++) {
        expect(await host.source.acquire(shard, "t", 60_000)).toBe(true);
        for (const stream of await host.source.streams(shard)) {
          taken.push(...(await host.source.read(shard, stream, "t", 100)));
        }
      }
      const [first, second] = taken.filter((e) => e.message.entityId.startsWith("o"));
      await host.source.deadLetter(first!, "sink answered 400");
      await host.source.deadLetter(second!, "sink answered 422");
      const dead = (await call("/api/outbox")).body;
      expect(dead["deadCount"]).toBe(2);
      const letters = dead["deadLetters"] as Array<{
        id: string;
        reason: string;
        message: { entityId: string };
      }>;
      expect(letters.map((d) => d.reason).sort()).toEqual(["sink answered 400", "sink answered 422"]);
      const retried = letters.find((d) => d.message.entityId === first!.message.entityId)!;
      const dropped = letters.find((d) => d.message.entityId === second!.message.entityId)!;

      const lengthBefore = dead["length"] as number;
      expect(
        (
          await call(
            `/api/outbox/dead/${retried.id}/retry`,
            { method: "POST" },
            await token(["knstate-admin"]),
          )
        ).status,
      ).toBe(200);
      expect((await call(`/api/outbox/dead/${dropped.id}`, { method: "DELETE" })).status).toBe(400);
      expect(
        (
          await call(`/api/outbox/dead/${dropped.id}?confirm=${dropped.id}`, {
            method: "DELETE",
            headers: { "x-admin-user": "bob" },
          })
        ).status,
      ).toBe(200);
      expect((await call(`/api/outbox/dead/${dropped.id}/retry`, { method: "POST" })).status).toBe(404);
      expect((await call(`/api/outbox/dead/not-an-id?confirm=not-an-id`, { method: "DELETE" })).status).toBe(
        404,
      );

      const after = (await call("/api/outbox")).body;
      expect(after["deadCount"]).toBe(0);
      expect(after["length"]).toBe(lengthBefore + 1);
      const again = [];
      for (let shard = 0; shard < host.source.shards; shard++) {
        for (const stream of await host.source.streams(shard)) {
          again.push(...(await host.source.read(shard, stream, "t", 100)));
        }
      }
      expect(again.map((e) => e.message.id)).toContain(first!.message.id);
      expect(host.lines).toContainEqual({
        message: "admin: dead letter sent again",
        fields: { user: "jwt:ops-alice", deadLetter: retried.id },
      });
      expect(host.lines).toContainEqual({
        message: "admin: dead letter dropped",
        fields: { user: "bob", deadLetter: dropped.id },
      });
    });
  });
}
