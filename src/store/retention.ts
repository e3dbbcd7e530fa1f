/**
 * Event retention per entity kind (`KNSTATE_RETAIN_EVENTS`): when an append writes a snapshot
 * at version S, the events at versions up to S − keep are deleted, so an entity keeps its
 * snapshot, the events after it and a tail of `keep` events before it. Kinds not named keep
 * every event (the default). Trimming makes rebuilding the state from events impossible: a
 * definition that refuses the snapshot then answers 503 (`UnreadableState`) instead of folding
 * a partial history, so a kind that trims declares `upcastState` for every older version.
 */

/** Events to keep before the latest snapshot, by entity kind; `undefined`: keep them all. */
export type Retention = (entityType: string) => number | undefined;

/** Keeps every event of every kind. */
export const KEEP_ALL: Retention = () => undefined;

/**
 * The retention of `KNSTATE_RETAIN_EVENTS`: items `<entity>=<events to keep>`, `*` for every kind
 * not named, e.g. `cart=0,order=100`. Throws one error naming every bad item.
 */
export function parseRetention(items: readonly string[] | undefined): Retention {
  if (items === undefined || items.length === 0) return KEEP_ALL;
  const keep = new Map<string, number>();
  const problems: string[] = [];
  for (const item of items) {
    const match = /^([a-z][a-z0-9-]*|\*)=(\d+)$/.exec(item.trim());
    if (match === null || !Number.isSafeInteger(Number(match[2])))
      problems.push(`"${item}" is not <entity>=<events to keep> (e.g. cart=0 or *=100)`);
    else if (keep.has(match[1]!)) problems.push(`"${match[1]!}" is named twice`);
    else keep.set(match[1]!, Number(match[2]));
  }
  if (problems.length > 0) throw new Error(`KNSTATE_RETAIN_EVENTS: ${problems.join("; ")}`);
  const fallback = keep.get("*");
  return (entityType) => keep.get(entityType) ?? fallback;
}

/** The last version to delete after a snapshot at `snapshotVersion`, or 0 for none. */
export function trimThrough(snapshotVersion: number, keep: number | undefined): number {
  return keep === undefined ? 0 : Math.max(0, snapshotVersion - keep);
}
