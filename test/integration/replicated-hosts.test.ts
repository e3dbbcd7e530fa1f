import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnHost, type HostProcess } from "../support/host.js";
import { bounded, HttpClient, type Answer } from "../support/http-client.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

/**
 * Replicated entities served by three host processes over one Redis: hot counters stay exact
 * with no conflict, votes count once per voter, add wins over a concurrent remove, leases fence
 * their stale holders, presence expires, and bad operations apply nothing.
 */

const withRedis = redisAvailable();
const FUNCTIONS = ["likes", "poll", "leader", "test/fixtures/replicated"];
let redis: RedisServer | undefined;
let hosts: HostProcess[] = [];
let client: HttpClient;
let dir: string;

beforeAll(async () => {
  if (!withRedis) return;
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "knstate-replicated-"));
  client = new HttpClient(32);
  hosts = await Promise.all(
    [0, 1, 2].map(() =>
      spawnHost({
        functions: FUNCTIONS,
        metricsPort: true,
        env: {
          KNSTATE_STORE: "redis",
          REDIS_URL: redis!.url,
          // The machine running the tests may be loaded: give Redis calls time rather than 503s.
          KNSTATE_REDIS_COMMAND_TIMEOUT: "30s",
        },
      }),
    ),
  );
}, 60_000);

afterAll(async () => {
  client?.close();
  await Promise.all(hosts.map((h) => h.stop()));
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const host = (i: number) => hosts[i % hosts.length]!;

/**
 * Delivers a CloudEvent as a broker does: a 503 (the outcome unknown) is delivered again, with
 * the same id, to the next host. Resolves with the first other answer.
 */
async function deliver(
  i: number,
  event: { id: string; type: string; subject: string; data?: unknown },
): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await client.event(`${host(i + attempt).url}/`, event);
    if (answer.status !== 503 || attempt >= 20) return answer;
    await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
  }
}

/** The sum of every sample of `metric` on a host's /metrics, of those with `labels` when given. */
async function scrape(
  i: number,
  metric: string,
  labels: Record<string, string> = {},
): Promise<{ samples: number; total: number }> {
  const text = await (await fetch(`http://127.0.0.1:${hosts[i]!.metricsPort}/metrics`)).text();
  const wanted = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  let samples = 0;
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (!wanted.every((label) => line.includes(label))) continue;
    samples++;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return { samples, total };
}

/** A host's `knstate_replicated_writes_total` of `entity` by path. */
async function writes(i: number, entity: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const path of ["predicted", "script", "stale"]) {
    found[path] = (await scrape(i, "knstate_replicated_writes_total", { entity_type: entity, path })).total;
  }
  return found;
}

describe.skipIf(!withRedis)("replicated entities on three hosts", () => {
  it("writes a host's own batches as it predicted them, and falls back to the script once another host wrote", async () => {
    const post = `solo-${Date.now()}`;
    let sent = 0;
    const like = (i: number, id = `${post}-${++sent}`) =>
      client.event(`${host(i).url}/`, { id, type: "com.example.likes.like", subject: post });
    const before = await writes(0, "likes");
    for (let n = 1; n <= 50; n++) expect(await like(0)).toMatchObject({ status: 200, body: { count: n } });
    const alone = await writes(0, "likes");
    // The first batch brings the cells back; every later one is predicted.
    expect(alone.script! - before.script!).toBe(1);
    expect(alone.predicted! - before.predicted!).toBe(49);
    expect(await like(1)).toMatchObject({ status: 200, body: { count: 51 } });
    // Host 0's prediction is stale now: the script applies the like to what host 1 left, and
    // brings the cells back, so the next ones are predicted again.
    expect(await like(0)).toMatchObject({ status: 200, body: { count: 52 } });
    expect(await like(0)).toMatchObject({ status: 200, body: { count: 53 } });
    expect(await like(0)).toMatchObject({ status: 200, body: { count: 54 } });
    const after = await writes(0, "likes");
    expect(after.stale! - alone.stale!).toBe(1);
    expect(after.script! - alone.script!).toBe(0);
    expect(after.predicted! - alone.predicted!).toBe(2);
    // A redelivery of a like written as predicted: its recorded reply, from either path.
    expect(await like(0, `${post}-10`)).toMatchObject({ status: 200, body: { count: 10 } });
    expect(await like(2, `${post}-10`)).toMatchObject({ status: 200, body: { count: 10 } });
    const read = await client.send("GET", `${host(2).url}/likes/${post}`);
    expect(read.body).toMatchObject({ state: { count: 54 }, version: 54 });
  });

  it("counts 6,000 concurrent likes of one post exactly, without a conflict or a retry", async () => {
    const TOTAL = 6000;
    await bounded(TOTAL, 96, async (i) => {
      const answer = await deliver(i, {
        id: `like-${i}`,
        type: "com.example.likes.like",
        subject: "hot-post",
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    });
    for (let i = 0; i < 3; i++) {
      const read = await client.send("GET", `${host(i).url}/likes/hot-post`);
      expect(read.body).toMatchObject({ state: { count: TOTAL }, version: TOTAL });
      const finished = await scrape(i, "knstate_commands_total");
      expect(finished.total).toBeGreaterThan(0);
      expect(await scrape(i, "knstate_conflicts_total")).toMatchObject({ total: 0 });
      expect(await scrape(i, "knstate_conflict_retries_total")).toMatchObject({ total: 0 });
    }
    const unlike = await client.send("POST", `${host(1).url}/likes/hot-post/unlike`, { by: 6 });
    expect(unlike).toMatchObject({ status: 200, body: { count: TOTAL - 6 } });
  }, 600_000);

  it("counts each of 2,000 voters once, for their last vote, through redeliveries on several hosts", async () => {
    const VOTERS = 2000;
    const OPTIONS = ["blue", "green", "yellow"];
    await bounded(VOTERS, 48, async (v) => {
      const first = { id: `ballot-${v}-1`, type: "com.example.poll.vote", subject: "lunch" };
      const data = { voter: `voter-${v}`, option: "red" };
      // The same CloudEvent delivered twice at once, to two hosts: counted once, answered the same.
      const [a, b] = await Promise.all([deliver(v, { ...first, data }), deliver(v + 1, { ...first, data })]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.headers["ce-id"]).toBe(a.headers["ce-id"]);
      expect(b.body).toEqual(a.body);
      const second = await deliver(v + 2, {
        id: `ballot-${v}-2`,
        type: "com.example.poll.vote",
        subject: "lunch",
        data: { voter: `voter-${v}`, option: OPTIONS[v % 3] },
      });
      expect(second.status).toBe(200);
    });
    const expected = { blue: 0, green: 0, yellow: 0 } as Record<string, number>;
    for (let v = 0; v < VOTERS; v++) expected[OPTIONS[v % 3]!]!++;
    const results = await client.event(`${host(0).url}/`, {
      id: "results-1",
      type: "com.example.poll.results",
      subject: "lunch",
    });
    expect(results.body).toEqual({ results: expected, voters: VOTERS });
    const read = await client.send("GET", `${host(2).url}/poll/lunch`);
    expect(read.body).toMatchObject({ state: { results: expected, voters: VOTERS } });
  }, 600_000);

  it("keeps an element added concurrently with its removal (add wins), every time", async () => {
    for (let round = 0; round < 5; round++) {
      const tag = `t${round}`;
      const url = (i: number, command: string) => `${host(i).url}/tags/doc-${round}/${command}`;
      expect((await client.send("POST", url(0, "add"), { tag })).body).toEqual({ tags: [tag] });
      const started = join(dir, `started-${round}`);
      const go = join(dir, `go-${round}`);
      // Host 1 decides the remove on the state it loaded, then holds on until `go` exists.
      const removal = client.send("POST", url(1, "removeAfter"), { tag, started, go });
      while (!existsSync(started)) await new Promise((r) => setTimeout(r, 5));
      // Meanwhile host 2 adds the element again: this add is concurrent with the remove.
      expect((await client.send("POST", url(2, "add"), { tag })).body).toEqual({ tags: [tag] });
      writeFileSync(go, "");
      expect(await removal).toMatchObject({ status: 200, body: { tags: [tag] } });
      expect((await client.send("GET", `${host(0).url}/tags/doc-${round}`)).body).toMatchObject({
        state: { tags: [tag] },
      });
      // A remove that saw the add removes it.
      expect((await client.send("POST", url(2, "remove"), { tag })).body).toEqual({ tags: [] });
    }
  });

  it("gives a lease to one of two racing pods, then to the other with a higher token; the old token is refused", async () => {
    const group = "workers";
    const acquire = (i: number, pod: string) =>
      client.send("POST", `${host(i).url}/leader/${group}/acquire`, { pod, ttlMs: 3000 });
    const [a, b] = await Promise.all([acquire(0, "pod-a"), acquire(1, "pod-b")]);
    const replies = [a.body, b.body] as Array<{ leader: boolean; holder: string; token: number }>;
    expect(
      replies.filter((r) => r.leader),
      JSON.stringify(replies),
    ).toHaveLength(1);
    const winner = replies.find((r) => r.leader)!;
    expect(winner.token).toBe(1);
    const loser = winner.holder === "pod-a" ? "pod-b" : "pod-a";
    const loserHost = loser === "pod-a" ? 0 : 1;
    expect(
      (await client.send("POST", `${host(2).url}/leader/${group}/write`, { token: 1, config: "one" })).status,
    ).toBe(200);
    // The holder stops renewing; the other pod keeps trying and gets it once the TTL has passed.
    let next: { leader: boolean; holder: string; token: number };
    do {
      await new Promise((r) => setTimeout(r, 50));
      next = (await acquire(loserHost, loser)).body as typeof next;
    } while (!next.leader);
    expect(next).toEqual({ leader: true, holder: loser, token: 2 });
    const stale = await client.send("POST", `${host(2).url}/leader/${group}/write`, {
      token: 1,
      config: "stale",
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ type: "/problems/operation-refused", status: 412 });
    const state = await client.send("GET", `${host(0).url}/leader/${group}`);
    expect(state.body).toMatchObject({ state: { holder: loser, token: 2, config: "one" } });
  });

  it("forgets a member that stops heartbeating after its TTL", async () => {
    const beat = (i: number, user: string) =>
      client.send("POST", `${host(i).url}/here/doc-1/heartbeat`, { user });
    await beat(0, "ann");
    await beat(1, "bob");
    const read = async () =>
      ((await client.send("GET", `${host(2).url}/here/doc-1`)).body as { state: { here: string[] } }).state
        .here;
    expect(await read()).toEqual(["ann", "bob"]);
    // bob keeps heartbeating, ann does not: ann disappears after 3 s, bob stays.
    let here: string[];
    do {
      await beat(1, "bob");
      await new Promise((r) => setTimeout(r, 100));
      here = await read();
    } while (here.includes("ann"));
    expect(here).toEqual(["bob"]);
  });

  it("answers bad input and bad operations with a problem, and applies nothing", async () => {
    const url = (command: string) => `${host(0).url}/broken/b-1/${command}`;
    expect((await client.send("POST", url("ok"), {})).body).toEqual({ count: 1, tags: [] });
    for (const command of ["undeclared", "forged", "fraction", "oversized"]) {
      const answer = await client.send("POST", url(command), {});
      expect(answer.status, command).toBe(500);
      expect(answer.body).toMatchObject({ type: "/problems/handler-failed", status: 500 });
    }
    const invalid = await client.send("POST", `${host(1).url}/likes/b-1/like`, { by: 1.5 });
    expect(invalid).toMatchObject({ status: 400, body: { type: "/problems/invalid-command-data" } });
    const ifMatch = await client.send("POST", `${host(1).url}/likes/b-1/like`, {}, { "if-match": '"0"' });
    expect(ifMatch).toMatchObject({ status: 400, body: { type: "/problems/invalid-request" } });
    expect((await client.send("GET", `${host(1).url}/broken/b-1`)).body).toEqual({
      state: { count: 1, tags: [] },
      version: 1,
    });
    // The event history is not on the public port (the admin port serves it), and a replicated
    // entity keeps values, not events.
    const events = await client.send("GET", `${host(2).url}/likes/b-1/events`);
    expect(events).toMatchObject({ status: 405, body: { type: "/problems/method-not-allowed" } });
    expect((await client.send("GET", `${host(2).url}/likes/b-1`)).body).toEqual({
      state: { count: 0 },
      version: 0,
    });
  });
});
