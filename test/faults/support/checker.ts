import type { LedgerEntry } from "./load-client.js";

/** One event as the store holds it: the ledger fixture's `recorded` event and its version. */
export interface StoredEvent {
  readonly entity: string;
  readonly version: number;
  readonly id: string;
  readonly attempt: number;
}

/** What the checker computes after a scenario. The first three must be zero. */
export interface Figures {
  /** Acknowledged (2xx) commands whose event is not stored. */
  acked_lost: number;
  /** Extra copies of events whose CloudEvent id is stored more than once. */
  dup_applied: number;
  /** Versions missing or out of order in an entity's stored events (they must be 1..n). */
  version_gaps: number;
  /** Acknowledged commands whose reply named another version than the one their event is stored at. */
  version_mismatch: number;
  /** Stored events applied by an attempt the client saw fail (503, timeout, reset): the outcome was unknown. */
  indeterminate_then_applied: number;
  /** Stored events with an id the client never sent. */
  unknown_applied: number;
  acked: number;
  abandoned: number;
  stored: number;
  /** Attempts per answer: `200`, `503`, `network`, `timeout`… */
  statuses: Record<string, number>;
  /** The longest single attempt, in ms. */
  max_attempt_ms: number;
  /** A few of the commands behind non-zero figures, with their attempts, to start an investigation. */
  examples: string[];
}

/** Reads every stored event of `entities` through a host's HTTP API, 1,000 at a time. */
export async function readStored(hostUrl: string, entities: readonly string[]): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (const entity of entities) {
    for (let from = 1; from < 1_000_000; from += 1000) {
      const res = await fetch(
        `${hostUrl}/ledger/${encodeURIComponent(entity)}/events?from=${from}&to=${from + 999}`,
        { signal: AbortSignal.timeout(10_000) },
      );
      if (!res.ok) throw new Error(`reading ${entity} from ${from}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as {
        events: Array<{ type: string; version: number; data: { id: string; attempt: number } }>;
      };
      for (const e of body.events) {
        out.push({ entity, version: e.version, id: e.data.id, attempt: e.data.attempt });
      }
      if (body.events.length < 1000) break;
    }
  }
  return out;
}

/** Compares the client's ledger with the stored events. */
export function computeFigures(ledger: readonly LedgerEntry[], stored: readonly StoredEvent[]): Figures {
  const byId = new Map<string, LedgerEntry>();
  for (const entry of ledger) byId.set(entry.id, entry);
  const storedById = new Map<string, StoredEvent[]>();
  for (const event of stored) {
    const list = storedById.get(event.id);
    if (list) list.push(event);
    else storedById.set(event.id, [event]);
  }

  const figures: Figures = {
    acked_lost: 0,
    dup_applied: 0,
    version_gaps: 0,
    version_mismatch: 0,
    indeterminate_then_applied: 0,
    unknown_applied: 0,
    acked: 0,
    abandoned: 0,
    stored: stored.length,
    statuses: {},
    max_attempt_ms: 0,
    examples: [],
  };
  const example = (what: string, entry: LedgerEntry | undefined, copies?: readonly StoredEvent[]) => {
    if (figures.examples.length >= 5) return;
    figures.examples.push(
      `${what}: ${JSON.stringify({ ...entry, stored: copies?.map((c) => ({ v: c.version, id: c.id, attempt: c.attempt })) })}`,
    );
  };

  for (const entry of ledger) {
    for (const attempt of entry.attempts) {
      const key = String(attempt.status);
      figures.statuses[key] = (figures.statuses[key] ?? 0) + 1;
      figures.max_attempt_ms = Math.max(figures.max_attempt_ms, attempt.ms);
    }
    if (entry.abandoned) figures.abandoned++;
    if (!entry.acked) continue;
    figures.acked++;
    const copies = storedById.get(entry.id);
    if (copies === undefined) {
      figures.acked_lost++;
      const there = stored.filter((e) => e.entity === entry.entity && e.version === entry.acked?.version);
      example("acked_lost", entry, there);
      continue;
    }
    const version = entry.acked.version;
    if (version !== undefined && !copies.some((c) => c.version === version)) {
      figures.version_mismatch++;
      example("version_mismatch", entry, copies);
    }
  }

  for (const [id, copies] of storedById) {
    figures.dup_applied += copies.length - 1;
    const entry = byId.get(id);
    if (copies.length > 1) example("dup_applied", entry, copies);
    if (entry === undefined) {
      figures.unknown_applied += copies.length;
      continue;
    }
    for (const copy of copies) {
      const attempt = entry.attempts.find((a) => a.attempt === copy.attempt);
      const ok = typeof attempt?.status === "number" && attempt.status >= 200 && attempt.status < 300;
      if (!ok) figures.indeterminate_then_applied++;
    }
  }

  const byEntity = new Map<string, number[]>();
  for (const event of stored) {
    const list = byEntity.get(event.entity);
    if (list) list.push(event.version);
    else byEntity.set(event.entity, [event.version]);
  }
  for (const versions of byEntity.values()) {
    versions.forEach((v, i) => {
      if (v !== i + 1) figures.version_gaps++;
    });
  }
  return figures;
}

/**
 * Prints one line per figure, prefixed with the scenario, for the log and `docs/reliability.md`:
 * `[kill -9 redis, AOF always] acked_lost 0`.
 */
export function printFigures(
  scenario: string,
  figures: Figures,
  extra: Record<string, number | string> = {},
) {
  const lines = [
    `acked_lost ${figures.acked_lost}`,
    `dup_applied ${figures.dup_applied}`,
    `version_gaps ${figures.version_gaps}`,
    `version_mismatch ${figures.version_mismatch}`,
    `indeterminate_then_applied ${figures.indeterminate_then_applied}`,
    `unknown_applied ${figures.unknown_applied}`,
    ...Object.entries(extra).map(([k, v]) => `${k} ${v}`),
    `acked ${figures.acked}`,
    `abandoned ${figures.abandoned}`,
    `stored ${figures.stored}`,
    `max_attempt_ms ${figures.max_attempt_ms}`,
    `statuses ${JSON.stringify(figures.statuses)}`,
    ...figures.examples.map((e) => `example ${e}`),
  ];
  process.stdout.write(lines.map((l) => `[${scenario}] ${l}\n`).join(""));
}

/** Seconds from `since` to the first acknowledgement at or after it (undefined if none). */
export function recoverySeconds(ledger: readonly LedgerEntry[], since: number): number | undefined {
  let first = Infinity;
  for (const entry of ledger)
    if (entry.acked && entry.acked.at >= since) first = Math.min(first, entry.acked.at);
  return first === Infinity ? undefined : Math.round((first - since) / 10) / 100;
}

/** Attempts that were answered 2xx while `[from, to]` overlapped them (a fault window). */
export function acksDuring(ledger: readonly LedgerEntry[], from: number, to: number): LedgerEntry[] {
  return ledger.filter((e) => e.acked !== undefined && e.acked.at > from && e.acked.at < to);
}
