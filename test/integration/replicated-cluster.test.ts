import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnHost, type HostProcess } from "../support/host.js";
import { bounded, HttpClient, type Answer } from "../support/http-client.js";
import { redisAvailable, startRedisCluster, type RedisCluster } from "../support/redis.js";

/**
 * Replicated entities served by two hosts over a real Redis Cluster (3 masters, a replica
 * each, every apply acknowledged by a replica): entities spread over the masters, each one's
 * values and dedup records in one slot, the counts exact through redeliveries to both hosts.
 */

const withRedis = redisAvailable();
let cluster: RedisCluster | undefined;
let hosts: HostProcess[] = [];
let client: HttpClient;

beforeAll(async () => {
  if (!withRedis) return;
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  client = new HttpClient(32);
  hosts = await Promise.all(
    [0, 1].map(() =>
      spawnHost({
        functions: ["likes", "poll"],
        env: {
          KNSTATE_STORE: "redis",
          REDIS_CLUSTER_NODES: cluster!.nodes.slice(0, 3).join(","),
          KNSTATE_REDIS_WAIT_REPLICAS: "1",
          KNSTATE_REDIS_WAIT_TIMEOUT: "5s",
          // The machine running the tests may be loaded: give Redis calls time rather than 503s.
          KNSTATE_REDIS_COMMAND_TIMEOUT: "30s",
        },
      }),
    ),
  );
}, 120_000);

afterAll(async () => {
  client?.close();
  await Promise.all(hosts.map((h) => h.stop()));
  await cluster?.stop();
});

/** Delivers a CloudEvent as a broker does: a 503 (outcome unknown) goes again, same id, to the other host. */
async function deliver(
  i: number,
  event: { id: string; type: string; subject: string; data?: unknown },
): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await client.event(`${hosts[(i + attempt) % 2]!.url}/`, event);
    if (answer.status !== 503 || attempt >= 20) return answer;
    await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
  }
}

describe.skipIf(!withRedis)("replicated entities on a Redis Cluster, two hosts", () => {
  it("counts likes of many posts exactly, each like delivered to both hosts", async () => {
    const POSTS = 12;
    const LIKES = 60;
    await bounded(POSTS * LIKES, 48, async (n) => {
      const event = { id: `like-${n}`, type: "com.example.likes.like", subject: `post-${n % POSTS}` };
      const [a, b] = await Promise.all([deliver(n, event), deliver(n + 1, event)]);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      expect(b.body).toEqual(a.body);
    });
    for (let p = 0; p < POSTS; p++) {
      for (const host of hosts) {
        const read = await client.send("GET", `${host.url}/likes/post-${p}`);
        expect(read.body).toMatchObject({ state: { count: LIKES }, version: LIKES });
      }
    }
    // The posts' values spread over the masters: every master holds some.
    const holders: number[] = [];
    for (const server of cluster!.servers) {
      if (!(await server.cli("role")).startsWith("master")) continue;
      const keys = (await server.cli("--scan", "--pattern", "*:likes:*:r")).split("\n").filter(Boolean);
      holders.push(keys.length);
    }
    expect(holders).toHaveLength(3);
    expect(holders.reduce((a, b) => a + b, 0)).toBe(POSTS);
    for (const held of holders) expect(held).toBeGreaterThan(0);
  }, 600_000);

  it("counts each voter of several polls once, for their last vote", async () => {
    const POLLS = 3;
    const VOTERS = 100;
    await bounded(POLLS * VOTERS, 32, async (n) => {
      const subject = `lunch-${n % POLLS}`;
      const voter = `voter-${Math.floor(n / POLLS)}`;
      const type = "com.example.poll.vote";
      const first = await deliver(n, { id: `ballot-${n}-1`, type, subject, data: { voter, option: "red" } });
      expect(first.status).toBe(200);
      const option = n % 2 === 0 ? "blue" : "green";
      const second = await deliver(n + 1, { id: `ballot-${n}-2`, type, subject, data: { voter, option } });
      expect(second.status).toBe(200);
    });
    for (let p = 0; p < POLLS; p++) {
      const expected: Record<string, number> = {};
      for (let n = p; n < POLLS * VOTERS; n += POLLS) {
        const option = n % 2 === 0 ? "blue" : "green";
        expected[option] = (expected[option] ?? 0) + 1;
      }
      const read = await client.send("GET", `${hosts[p % 2]!.url}/poll/lunch-${p}`);
      expect(read.body).toMatchObject({ state: { results: expected, voters: VOTERS } });
    }
  }, 600_000);
});
