import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { inEntityOrder, startSink, type Sink } from "../support/sink.js";

/**
 * Replicated entities that publish (`poll` and the `fenced` fixture), served with `K_SINK` set
 * to a sink on loopback: on Redis by three host processes, and on the memory store by one.
 * Every applied command's events reach the sink once, with ids `<entity>/<id>/<sequence>[/<n>]`;
 * a redelivery, a refused command and a read publish nothing.
 */

const SERVICE = "repl-pub";
const FUNCTIONS = ["poll", "test/fixtures/replicated"];

const variants = [
  { store: "redis", hosts: 3 },
  { store: "memory", hosts: 1 },
] as const;

describe.each(variants)("publishing replicated entities on the $store store", ({ store, hosts: count }) => {
  const run = store === "memory" || redisAvailable();
  let redis: RedisServer | undefined;
  let sink: Sink;
  let hosts: HostProcess[] = [];

  beforeAll(async () => {
    if (!run) return;
    sink = await startSink();
    if (store === "redis") redis = await startRedis();
    hosts = await Promise.all(
      Array.from({ length: count }, () =>
        spawnHost({
          functions: FUNCTIONS,
          env: {
            K_SINK: sink.url,
            K_SERVICE: SERVICE,
            KNSTATE_OUTBOX_POLL: "50ms",
            KNSTATE_OUTBOX_LEASE: "10s",
            KNSTATE_REDIS_COMMAND_TIMEOUT: "30s",
            ...(redis === undefined
              ? { KNSTATE_STORE: "memory" }
              : { KNSTATE_STORE: "redis", REDIS_URL: redis.url }),
          },
        }),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop("SIGKILL")));
    await sink?.close();
    await redis?.stop();
  });

  const host = (i: number) => hosts[i % hosts.length]!;
  const received = (prefix: string) =>
    sink.received.filter((r) => String(r.headers["ce-id"]).startsWith(prefix) && r.status < 300);

  it.runIf(run)(
    "publishes each applied vote once as com.example.poll.voted, a redelivery not again",
    async () => {
      const sent: Array<{ id: string; voter: string; option: string; version: string }> = [];
      for (let i = 0; i < 6; i++) {
        const voter = `v${i}`;
        const option = i % 2 === 0 ? "pizza" : "sushi";
        const res = await postEvent(host(i).url, {
          id: `vote-${i}`,
          type: "com.example.poll.vote",
          subject: "lunch",
          data: { voter, option },
        });
        expect(res.status).toBe(200);
        sent.push({ id: `vote-${i}`, voter, option, version: res.headers.get("ce-entityversion")! });
      }
      // Redelivered to another host: answered from its record, nothing applied or published again.
      const again = await postEvent(host(1).url, {
        id: "vote-0",
        type: "com.example.poll.vote",
        subject: "lunch",
        data: { voter: "v0", option: "pizza" },
      });
      expect(again.status).toBe(200);
      expect(again.headers.get("ce-entityversion")).toBe(sent[0]!.version);
      // A read applies nothing and publishes nothing.
      expect(
        (await postEvent(host(2).url, { id: "read-1", type: "com.example.poll.results", subject: "lunch" }))
          .status,
      ).toBe(200);

      await sink.until(() => received("poll/lunch/").length >= sent.length);
      await new Promise((r) => setTimeout(r, 300));
      const got = received("poll/lunch/");
      expect(got.map((r) => r.headers["ce-id"]).sort()).toEqual(
        sent.map((s) => `poll/lunch/${s.version}`).sort(),
      );
      expect(sent.map((s) => Number(s.version)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const s of sent) {
        const r = got.find((g) => g.headers["ce-id"] === `poll/lunch/${s.version}`)!;
        expect(r.headers["ce-type"]).toBe("com.example.poll.voted");
        expect(r.headers["ce-subject"]).toBe("lunch");
        expect(r.headers["ce-source"]).toBe(`/${SERVICE}/poll`);
        expect(r.headers["ce-entityversion"]).toBe(s.version);
        expect(JSON.parse(r.body)).toEqual({ voter: s.voter, option: s.option });
      }
      expect(inEntityOrder(got.map((r) => String(r.headers["ce-id"])))).toBe(true);
    },
  );

  it.runIf(run)(
    "publishes nothing for a fenced write refused with 412, two numbered events for an applied one",
    async () => {
      const acquire = await postEvent(host(0).url, {
        id: "acq-1",
        type: "com.example.fenced.acquire",
        subject: "f1",
        data: { holder: "a" },
      });
      expect(acquire.status).toBe(200);
      const stale = await postEvent(host(1).url, {
        id: "write-stale",
        type: "com.example.fenced.write",
        subject: "f1",
        data: { token: 7, note: "stale" },
      });
      expect(stale.status).toBe(412);
      const write = await postEvent(host(2).url, {
        id: "write-ok",
        type: "com.example.fenced.write",
        subject: "f1",
        data: { token: 1, note: "fresh" },
      });
      expect(write.status).toBe(200);
      expect(write.headers.get("ce-entityversion")).toBe("2");

      await sink.until(() => received("fenced/f1/").length >= 3);
      await new Promise((r) => setTimeout(r, 300));
      const got = received("fenced/f1/");
      expect(
        got.map((r) => [r.headers["ce-id"], r.headers["ce-type"], JSON.parse(r.body) as unknown]),
      ).toEqual([
        ["fenced/f1/1", "com.example.fenced.acquire-asked", { asked: "a" }],
        ["fenced/f1/2/1", "com.example.fenced.written", { note: "fresh" }],
        ["fenced/f1/2/2", "com.example.fenced.counted", null],
      ]);
      expect(
        got.every((r) => r.headers["ce-entityversion"] === String(r.headers["ce-id"]).split("/")[2]),
      ).toBe(true);
    },
  );

  it.runIf(run)(
    "gives concurrent commands on one entity from every host unique ids with consecutive sequences",
    async () => {
      const n = 60;
      const versions = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const res = await postEvent(host(i).url, {
            id: `hot-${i}`,
            type: "com.example.poll.vote",
            subject: "hot",
            data: { voter: `h${i}`, option: "yes" },
          });
          expect(res.status).toBe(200);
          return Number(res.headers.get("ce-entityversion"));
        }),
      );
      await sink.until(() => new Set(received("poll/hot/").map((r) => r.headers["ce-id"])).size >= n);
      await new Promise((r) => setTimeout(r, 300));
      const ids = received("poll/hot/").map((r) => String(r.headers["ce-id"]));
      expect(ids).toHaveLength(n);
      const sequences = ids.map((id) => Number(id.split("/")[2])).sort((a, b) => a - b);
      expect(sequences).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect([...versions].sort((a, b) => a - b)).toEqual(sequences);
      expect(inEntityOrder(ids)).toBe(true);
    },
  );
});
