import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inParallel, startAdminHost, type AdminHost } from "../support/admin.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const ENTITIES = 10_000;

/** The JSON of an admin answer, loosely typed for the assertions. */
interface Body {
  types: Array<{ type: string; kind: string; count: number | null; commands: string[] }>;
  ids: string[];
  cursor: string | null;
  state: unknown;
  version: number;
  events: Array<{ version: number; type: string; data: unknown; time: unknown }>;
  next: number | null;
  records: unknown[];
  type: string;
}
const WAVES = 10;

describe.skipIf(!redisAvailable())("the admin API over Redis", () => {
  let redis: RedisServer;
  let host: AdminHost;
  /** Per version n (1-based) of counter "tt", the reply value recorded after its n-th event. */
  const replies: number[] = [];
  const amounts = [5, -2, 7, 1, -10, 3, 3, 8, -1, 4, 6, 2];

  beforeAll(async () => {
    redis = await startRedis();
    host = await startAdminHost(redis.url);
    // Ten waves of 1,000 ids, one wave after the other: wave k's ids are all newer than wave k-1's.
    for (let wave = 0; wave < WAVES; wave++) {
      const ids = Array.from(
        { length: ENTITIES / WAVES },
        (_, i) => `w${wave}-${String(i).padStart(4, "0")}`,
      );
      await inParallel(ids, 32, (id) => host.command("counter", id, "increment", { by: 1 }));
    }
    for (const by of amounts) {
      const reply = (await host.command("counter", "tt", "increment", { by })) as { value: number };
      replies.push(reply.value);
    }
  }, 600_000);

  afterAll(async () => {
    await host?.close();
    await redis?.stop();
  });

  const get = async (path: string) => {
    const response = await fetch(`${host.admin}${path}`);
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: (await response.json()) as Body,
    };
  };

  it("lists the entity types with their kind and count", async () => {
    const { status, body } = await get("/api/types");
    expect(status).toBe(200);
    const counter = body.types.find((t) => t.type === "counter")!;
    expect(counter).toMatchObject({ type: "counter", kind: "event-sourced", count: ENTITIES + 1 });
    expect(counter.commands).toContain("increment");
  });

  it("pages through 10,000 ids newest first, each id once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const { status, body } = await get(`/api/entities/counter?limit=1000${query}`);
      expect(status).toBe(200);
      expect(body.ids.length).toBeLessThanOrEqual(1000);
      seen.push(...body.ids);
      cursor = body.cursor;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(seen.length).toBe(ENTITIES + 1);
    expect(new Set(seen).size).toBe(ENTITIES + 1);
    expect(seen[0]).toBe("tt");
    // Newest first: the waves come in reverse order.
    const waves = seen.slice(1).map((id) => Number(id.slice(1, id.indexOf("-"))));
    for (let i = 1; i < waves.length; i++) expect(waves[i]!).toBeLessThanOrEqual(waves[i - 1]!);
  });

  it("filters by prefix, paged", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const { body } = await get(`/api/entities/counter?prefix=w3-&limit=300${query}`);
      seen.push(...body.ids);
      cursor = body.cursor;
    } while (cursor !== null);
    expect(seen.length).toBe(1000);
    expect(seen.every((id) => id.startsWith("w3-"))).toBe(true);
    expect(new Set(seen).size).toBe(1000);
    // A prefix nothing has: pages come back empty (each reads a bounded part of the index) until the end.
    let rare: string | null = "";
    let found = 0;
    for (let page = 0; rare !== null && page < 20; page++) {
      const query: string = rare === "" ? "" : `&cursor=${encodeURIComponent(rare)}`;
      const { body } = await get(`/api/entities/counter?prefix=nothing-like-this${query}`);
      found += body.ids.length;
      rare = body.cursor;
    }
    expect(rare).toBeNull();
    expect(found).toBe(0);
  });

  it("shows the state at every version N as the reply after the N-th event said", async () => {
    const now = await get("/api/entities/counter/tt");
    expect(now.body).toEqual({ state: { value: replies.at(-1) }, version: amounts.length });
    expect((await get("/api/entities/counter/tt?at=0")).body).toEqual({ state: { value: 0 }, version: 0 });
    for (let n = 1; n <= amounts.length; n++) {
      const { status, body } = await get(`/api/entities/counter/tt?at=${n}`);
      expect(status).toBe(200);
      expect(body).toEqual({ state: { value: replies[n - 1] }, version: n });
    }
  });

  it("pages the events in order", async () => {
    const events: Array<{ version: number; type: string; data: unknown; time: unknown }> = [];
    let from: number | null = 1;
    while (from !== null) {
      const { body } = await get(`/api/entities/counter/tt/events?from=${from}&limit=5`);
      expect(body.events.length).toBeLessThanOrEqual(5);
      events.push(...body.events);
      from = body.next;
    }
    expect(events.map((e) => e.version)).toEqual(amounts.map((_, i) => i + 1));
    expect(events.map((e) => e.data)).toEqual(amounts.map((by) => ({ by })));
    expect(events.every((e) => e.type === "changed" && "time" in e)).toBe(true);
  });

  it("lists the entity's live dedup records and rebuilds its snapshot", async () => {
    const dedup = await get("/api/entities/counter/tt/dedup");
    expect(dedup.status).toBe(200);
    expect(Array.isArray(dedup.body.records)).toBe(true);
    const rebuilt = await fetch(`${host.admin}/api/entities/counter/tt/rebuild-snapshot`, {
      method: "POST",
      headers: { "x-admin-user": "alice" },
    });
    expect(rebuilt.status).toBe(200);
    expect(await rebuilt.json()).toEqual({ rebuilt: true, version: amounts.length });
    expect((await get("/api/entities/counter/tt")).body.state).toEqual({ value: replies.at(-1) });
  });

  it("answers bad input with 4xx problems and changes nothing", async () => {
    const before = [await redis.cli("DBSIZE"), await redis.cli("HGET", "ks:knstate:counter:{tt}:m", "v")];
    const bad = [
      "/api/entities/nope",
      "/api/entities/nope/x",
      "/api/entities/counter/no-such-id",
      "/api/entities/counter/no-such-id/events",
      `/api/entities/counter/tt?at=${amounts.length + 1}`,
      "/api/entities/counter/tt?at=-1",
      "/api/entities/counter/tt?at=1.5",
      "/api/entities/counter/tt?at=abc",
      "/api/entities/counter/tt?at=1&at=2",
      "/api/entities/counter/tt?at=99999999999999999999",
      "/api/entities/counter?limit=1000000",
      "/api/entities/counter?limit=0",
      "/api/entities/counter?limit=-5",
      "/api/entities/counter?cursor=not-a-cursor",
      "/api/entities/counter/tt/events?limit=100000",
      "/api/entities/counter/tt/events?from=0",
      "/api/entities/counter/tt/events?from=-3",
    ];
    for (const path of bad) {
      const { status, type, body } = await get(path);
      expect(status, path).toBeGreaterThanOrEqual(400);
      expect(status, path).toBeLessThan(500);
      expect(type, path).toBe("application/problem+json");
      expect(body.type, path).toMatch(/^\/problems\//);
    }
    const del = await fetch(`${host.admin}/api/entities/counter/tt`, { method: "DELETE" });
    expect(del.status).toBe(400);
    const after = [await redis.cli("DBSIZE"), await redis.cli("HGET", "ks:knstate:counter:{tt}:m", "v")];
    expect(after).toEqual(before);
  });
});
