import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnHost, type HostProcess } from "../../support/host.js";
import { computeFigures, printFigures, readStored, recoverySeconds, type Figures } from "./checker.js";
import { LoadClient, type LoadOptions } from "./load-client.js";

/** The ledger fixture entity, loaded by the host from TypeScript source (through tsx). */
export const LEDGER_FUNCTION = fileURLToPath(new URL("./ledger-entity.ts", import.meta.url));

/** Command timeout the hosts run with in the suite: short, so outages show quickly. */
export const COMMAND_TIMEOUT_MS = 1000;

/** Starts `count` host processes serving the ledger entity from Redis, at once. */
export function startHosts(count: number, env: Record<string, string>): Promise<HostProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      spawnHost({
        functions: [LEDGER_FUNCTION],
        env: {
          KNSTATE_STORE: "redis",
          K_SERVICE: "faults",
          KNSTATE_REDIS_COMMAND_TIMEOUT: `${COMMAND_TIMEOUT_MS}ms`,
          KNSTATE_REDIS_CONNECT_TIMEOUT: `${COMMAND_TIMEOUT_MS}ms`,
          KNSTATE_LOG_LEVEL: "warn",
          // The suite checks every acknowledged event in each entity's log, read on the public port.
          KNSTATE_PUBLIC_EVENTS: "true",
          ...env,
        },
      }),
    ),
  );
}

export async function stopHosts(hosts: readonly HostProcess[]): Promise<void> {
  await Promise.all(hosts.map((h) => h.stop("SIGKILL", 5000)));
}

export interface ScenarioResult {
  readonly figures: Figures;
  readonly load: LoadClient;
  /** When the fault ended (the recovery action ran), ms since the epoch. */
  readonly recoveredAt: number;
  readonly recovery_s: number | undefined;
}

/**
 * Runs one scenario: a steady load on `hosts`, `fault` once `warmupAcks` commands are
 * acknowledged, then more load until `afterAcks` further acknowledgements (recovery), then
 * the load stops, every started command settles, and the stored events are checked against
 * the ledger. `fault` resolves with the time the fault ended. Prints the figures.
 */
export async function runScenario(options: {
  readonly name: string;
  readonly hosts: () => readonly string[];
  /** A host to read the stored events through, after the load. */
  readonly reader: () => string;
  readonly load?: Partial<LoadOptions>;
  readonly warmupAcks?: number;
  readonly afterAcks?: number;
  readonly recoveryTimeoutMs?: number;
  readonly fault: (load: LoadClient) => Promise<number>;
  readonly extra?: (result: { figures: Figures; load: LoadClient }) => Record<string, number | string>;
}): Promise<ScenarioResult> {
  const load = new LoadClient({
    hosts: options.hosts,
    prefix: `${options.name.replace(/[^a-z0-9]+/gi, "-")}-${Date.now().toString(36)}`,
    entities: 6,
    concurrency: 12,
    ...options.load,
  });
  load.start();
  let recoveredAt = 0;
  try {
    await load.waitForAcks(options.warmupAcks ?? 150, 20_000);
    recoveredAt = await options.fault(load);
    await load.waitForAcks(options.afterAcks ?? 150, options.recoveryTimeoutMs ?? 30_000);
  } finally {
    await load.stop();
  }
  // Let redeliveries still queued in a host's pipeline settle before reading.
  await sleep(100);
  const stored = await readStored(options.reader(), load.entityIds);
  const figures = computeFigures(load.ledger, stored);
  const recovery_s = recoverySeconds(load.ledger, recoveredAt);
  printFigures(options.name, figures, {
    recovery_s: recovery_s ?? "none",
    ...options.extra?.({ figures, load }),
  });
  return { figures, load, recoveredAt, recovery_s };
}
