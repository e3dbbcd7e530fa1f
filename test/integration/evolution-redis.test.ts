import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionDirs } from "../support/function-dir.js";
import { spawnHost, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

// One entity, three definitions of it, each served by `knstate serve` against the same Redis.
const V1 = `
import { defineEntity } from "knstate";
export default defineEntity({
  name: "ledger",
  typePrefix: "com.example",
  snapshotEvery: 2,
  initialState: () => ({ total: 0 }),
  commands: { add: (_s, d) => [{ type: "credited", data: { amount: d.amount } }] },
  events: { credited: (s, e) => ({ total: s.total + e.amount }) },
  reply: (s) => s,
});
`;

// Version 2: "credited" {amount} became "deposited" {cents}, and the state has another shape.
const V2 = `
import { defineEntity } from "knstate";
export default defineEntity({
  name: "ledger",
  typePrefix: "com.example",
  schemaVersion: 2,
  snapshotEvery: 100,
  initialState: () => ({ balance: { cents: 0 }, deposits: 0 }),
  commands: { add: (_s, d) => [{ type: "deposited", data: { cents: d.amount * 100 } }] },
  events: {
    deposited: (s, e) => ({ balance: { cents: s.balance.cents + e.cents }, deposits: s.deposits + 1 }),
  },
  upcast: { credited: (data) => ({ type: "deposited", data: { cents: data.amount * 100 } }) },
  reply: (s) => s,
});
`;

// Version 2 without the upcaster: the stored "credited" events fold into nothing it knows.
const V2_NO_UPCASTER = V2.replace(/upcast: \{[^\n]*\n/, "");

const KEY = "ks:knstate:ledger:{l1}:m";
let redis: RedisServer;
let dirs: Awaited<ReturnType<typeof functionDirs>>;

function serve(source: string, name: string): Promise<HostProcess> {
  return dirs.write(name, source).then((folder) =>
    spawnHost({
      functions: [folder],
      // The test reads the stored events as they are: without the admin's per-command metadata.
      env: { KNSTATE_STORE: "redis", REDIS_URL: redis.url, KNSTATE_EVENT_METADATA: "off" },
    }),
  );
}

async function hash(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const field of ["v", "sv", "s", "e3", "e4"]) out[field] = await redis.cli("HGET", KEY, field);
  return out;
}

const add = (host: HostProcess, amount: number) =>
  fetch(`${host.url}/ledger/l1/add`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ amount }),
  });

describe.skipIf(!redisAvailable())("schema evolution against Redis", () => {
  beforeAll(async () => {
    redis = await startRedis();
    dirs = await functionDirs();
  });
  afterAll(async () => {
    await redis?.stop();
    await dirs?.remove();
  });

  it("rebuilds a stale snapshot through the upcasters, then writes a new one", async () => {
    const v1 = await serve(V1, "v1");
    try {
      for (const amount of [1, 2, 3]) expect((await add(v1, amount)).status).toBe(200);
    } finally {
      await v1.stop();
    }
    const before = await hash();
    expect(before["sv"]).toBe("2");
    expect(before["s"]).toMatch(/^~\|[\w-]{11}\|\{"total":3\}$/);
    expect(before["e3"]).toBe('8|credited{"amount":3}');

    const v2 = await serve(V2, "v2");
    try {
      const read = await (await fetch(`${v2.url}/ledger/l1`)).json();
      // The v1 snapshot ({"total":3}) was not used: every event was upcast and folded.
      expect(read).toEqual({ state: { balance: { cents: 600 }, deposits: 3 }, version: 3 });
      const res = await add(v2, 4);
      expect(await res.json()).toEqual({ balance: { cents: 1000 }, deposits: 4 });
      const after = await hash();
      expect(after["sv"]).toBe("4");
      expect(after["s"]).toMatch(/^~2\|[\w-]{11}\|\{"balance":\{"cents":1000\},"deposits":4\}$/);
      expect(after["e4"]).toBe('2@9|deposited{"cents":400}');
      expect(after["e3"]).toBe(before["e3"]);
    } finally {
      await v2.stop();
    }

    // The new snapshot is trusted by the same definition after a restart.
    const again = await serve(V2, "v2-again");
    try {
      const read = await (await fetch(`${again.url}/ledger/l1`)).json();
      expect(read).toEqual({ state: { balance: { cents: 1000 }, deposits: 4 }, version: 4 });
    } finally {
      await again.stop();
    }
  });

  it("refuses an event no handler or upcaster accepts: 503 naming entity, event and version, logged once", async () => {
    const broken = await serve(V2_NO_UPCASTER, "v2-broken");
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${broken.url}/ledger/l1`);
        expect(res.status).toBe(503);
        const problem = (await res.json()) as Record<string, unknown>;
        expect(problem).toMatchObject({
          type: "/problems/unreadable-state",
          entity: "ledger",
          entityId: "l1",
          event: "credited",
          schemaVersion: 1,
        });
        expect(String(problem["detail"])).toContain('"credited" (schema version 1)');
      }
      expect((await add(broken, 1)).status).toBe(503);
      const logged = broken
        .output()
        .split("\n")
        .filter((line) => line.includes("cannot read its stored event"));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain("ledger");
      expect(await redis.cli("HGET", KEY, "v")).toBe("4");
    } finally {
      await broken.stop();
    }
  });
});
