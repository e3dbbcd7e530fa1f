// How a relay finds the non-empty outbox streams on Redis Cluster: the sweep it does (XLEN of
// each slot's stream, one script per master) against `SCAN MATCH` of the outbox streams on each
// master, on a 3-master cluster holding OUTBOX_SWEEP_KEYS (200,000) other keys and 100 streams
// with entries. Prints wall time and the masters' CPU (INFO cpu) per sweep, medians of 5.
// `npx tsx bench/outbox-sweep.ts` (starts its own cluster on free loopback ports).
import { Cluster, type Redis } from "ioredis";
import { ClusterOutboxSource } from "../src/outbox/cluster-source.js";
import { CLUSTER_OUTBOX_GROUPS, OutboxKeys } from "../src/store/outbox-keys.js";
import { startRedisCluster } from "../test/support/redis.js";

const keys = Number(process.env.OUTBOX_SWEEP_KEYS ?? 200_000);
const cluster = await startRedisCluster({ masters: 3 });
const client = new Cluster(
  cluster.nodes.map((n) => ({ host: "127.0.0.1", port: Number(n.split(":")[1]) })),
  { enableAutoPipelining: true },
);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function cpuMs(): Promise<number> {
  let total = 0;
  for (const node of client.nodes("master")) {
    const info = await node.info("cpu");
    const user = Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
    const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]);
    total += (user + sys) * 1000;
  }
  return total;
}

async function measure(name: string, sweep: () => Promise<number>): Promise<void> {
  const wall: number[] = [];
  const cpu: number[] = [];
  let found = 0;
  for (let i = 0; i < 5; i++) {
    const c0 = await cpuMs();
    const t0 = performance.now();
    found = await sweep();
    wall.push(performance.now() - t0);
    cpu.push((await cpuMs()) - c0);
  }
  console.log(
    `${name.padEnd(36)} ${median(wall).toFixed(1)} ms  Redis CPU ${median(cpu).toFixed(1)} ms  found ${found}`,
  );
}

try {
  await client.ping();
  for (let i = 0; i < keys; i += 1000) {
    await Promise.all(
      Array.from({ length: 1000 }, (_, j) => client.set(`ks:svc:counter:{c${i + j}}:m`, "x")),
    );
  }
  const outbox = new OutboxKeys("ks", "svc", true);
  for (let s = 0; s < 100; s++) await client.xadd(outbox.slotStream(s * 163), "*", "m", "{}");
  const source = new ClusterOutboxSource(client, { prefix: "ks", service: "svc", sweepMs: 0 });
  console.log(`3 masters, ${keys} other keys, 100 non-empty outbox streams`);
  await measure("sweep: XLEN per slot, script/master", async () => {
    let n = 0;
    for (let g = 0; g < CLUSTER_OUTBOX_GROUPS; g++) n += (await source.streams(g)).length;
    return n;
  });
  await measure("SCAN MATCH …:_outbox:{* COUNT 1000", async () => {
    let n = 0;
    await Promise.all(
      client.nodes("master").map(async (node: Redis) => {
        let cursor = "0";
        do {
          const [next, found] = await node.scan(cursor, "MATCH", "ks:svc:_outbox:{*", "COUNT", 1000);
          n += found.length;
          cursor = next;
        } while (cursor !== "0");
      }),
    );
    return n;
  });
} finally {
  client.disconnect();
  await cluster.stop();
}
