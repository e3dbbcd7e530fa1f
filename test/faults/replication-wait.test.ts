import { afterEach, describe, expect, it } from "vitest";
import { postEvent, type HostProcess } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";
import { readStored } from "./support/checker.js";
import { startHosts, stopHosts } from "./support/harness.js";
import { LOAD_SOURCE, RECORD_TYPE } from "./support/load-client.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const run = redisAvailable();

const record = (url: string, id: string, entity: string) =>
  postEvent(url, { id, source: LOAD_SOURCE, type: RECORD_TYPE, subject: entity, data: { attempt: 1 } });

/**
 * `KNSTATE_REDIS_WAIT_REPLICAS` must hold for every 2xx, including a redelivery answered from
 * its dedup record by another host than the one whose WAIT timed out. Redis's WAIT only covers
 * the writes of the connection it runs on, so this is checked step by step: the replica lags
 * (its replication link is blackholed), host A appends and answers 503, host B gets the
 * redelivery, then the primary dies and the replica is promoted.
 */
describe.runIf(run)("WAIT for replicas and redeliveries", () => {
  let primary: RedisServer | undefined;
  let replica: RedisServer | undefined;
  let link: TcpProxy | undefined;
  let hosts: HostProcess[] = [];

  afterEach(async () => {
    await stopHosts(hosts);
    hosts = [];
    await link?.close();
    await primary?.stop();
    await replica?.stop();
  });

  it("a redelivery on another host is acknowledged only once the replica has its event", async () => {
    primary = await startRedis({ appendonly: "yes" });
    link = await TcpProxy.start(primary.port);
    replica = await startRedis({ extraArgs: ["--replicaof", "127.0.0.1", String(link.port)] });
    const deadline = Date.now() + 15_000;
    while (!(await replica.cli("INFO", "replication")).includes("master_link_status:up")) {
      if (Date.now() > deadline) throw new Error("the replica did not sync in 15s");
      await new Promise((r) => setTimeout(r, 100));
    }
    hosts = await startHosts(2, {
      REDIS_URL: primary.url,
      KNSTATE_REDIS_WAIT_REPLICAS: "1",
      KNSTATE_REDIS_WAIT_TIMEOUT: "300ms",
    });
    const [a, b] = hosts as [HostProcess, HostProcess];
    // A has written and been replicated once; B has never written (its connection's own
    // writes, all zero of them, are trivially on the replica).
    expect((await record(a.url, "warm-a", "warm")).status).toBe(200);

    link.blackhole(true);
    const first = await record(a.url, "x", "e");
    expect(first.status).toBe(503);
    const redelivered = await record(b.url, "x", "e");
    const again = await record(a.url, "x", "e");

    // The primary dies; the lagging replica becomes the primary.
    await primary.kill9();
    link.dropAll();
    await replica.cli("REPLICAOF", "NO", "ONE");
    const survivors = await startHosts(1, { REDIS_URL: replica.url });
    hosts.push(...survivors);
    const stored = await readStored(survivors[0]!.url, ["e"]);
    const survived = stored.some((e) => e.id === "x");
    process.stdout.write(
      `[WAIT redelivery] answers a=${first.status} b=${redelivered.status} a=${again.status} stored_on_replica=${survived}\n`,
    );
    // The setup worked: the replica never got the event.
    expect(survived).toBe(false);
    // So no host may have acknowledged it.
    expect(redelivered.status).toBe(503);
    expect(again.status).toBe(503);
  });
});
