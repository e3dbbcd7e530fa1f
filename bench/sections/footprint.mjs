// The footprint section.
import { join } from "node:path";
import { footprint } from "../lib/footprint.mjs";
import { cfg, dataDir, log, logDir, results, start } from "../lib/run-state.mjs";
import * as S from "../lib/servers.mjs";

/** Redis bytes per entity, event and dedup record: the store's layout beside the former one. */
export async function footprintSection() {
  const redis = await start(S.startRedis({ port: 6391, dir: join(dataDir, "redis-footprint"), logDir }));
  S.redisCli(redis.port, ["CONFIG", "SET", "appendonly", "no"]);
  log(`footprint: ${cfg.footprintCounts.join(", ")} entities, current and former layout`);
  results.sections.footprint = await footprint({
    root: S.ROOT,
    port: redis.port,
    counts: cfg.footprintCounts,
    soakSeconds: cfg.quick ? 5 : 15,
    log,
  });
  await redis.stop();
}
