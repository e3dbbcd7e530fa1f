import { expect } from "vitest";
import { postEvent, type HostProcess } from "./host.js";
import type { RedisServer } from "./redis.js";

/** Increments counter `<tag><entity>` on `host` with event id `<tag>-<entity>-<i>`; the committed event's id. */
export async function incrementCounter(
  host: HostProcess,
  tag: string,
  entity: number,
  i: number,
): Promise<string> {
  const res = await postEvent(host.url, {
    id: `${tag}-${entity}-${i}`,
    type: "com.example.counter.increment",
    subject: `${tag}${entity}`,
    data: { by: 1 },
  });
  expect(res.status).toBe(200);
  return `counter/${tag}${entity}/${res.headers.get("ce-entityversion")}`;
}

/** Increments counters `<tag>0..<tag><entities-1>` `perEntity` times each, over `hosts`; the committed event ids. */
export async function incrementCounters(
  hosts: readonly HostProcess[],
  entities: number,
  perEntity: number,
  tag: string,
): Promise<string[]> {
  const committed: string[] = [];
  let n = 0;
  const jobs = Array.from({ length: entities }, (_, e) => async () => {
    for (let i = 0; i < perEntity; i++) {
      committed.push(await incrementCounter(hosts[n++ % hosts.length]!, tag, e, i));
    }
  });
  await Promise.all(jobs.map((job) => job()));
  return committed;
}

/** The entries waiting in the 4 outbox shards of `service` (key prefix `ks`). */
export async function outboxLength(redis: RedisServer, service: string): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < 4; shard++) {
    total += Number(await redis.cli("XLEN", `ks:${service}:_outbox:${shard}`));
  }
  return total;
}
