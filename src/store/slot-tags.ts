import calculateSlot from "cluster-key-slot";

/** Redis Cluster's number of hash slots. */
export const SLOT_COUNT = 16384;

let tags: string[] | undefined;

/** The Redis Cluster slot of `key`: of its `{hash tag}` when it has one. */
export function keySlot(key: string): number {
  return calculateSlot(key);
}

/**
 * A short hash tag (without braces) whose slot is `slot`, the same on every host: a key
 * `…{<tag>}…` lands in that slot. Per-slot keys of a service (an outbox stream, a timer index)
 * use it to live in the slot of the entities they serve, so one script can write both.
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new RangeError(`not a Redis Cluster slot: ${slot}`);
  }
  tags ??= buildTags();
  return tags[slot]!;
}

/** The tag of the slot `key` lands in. */
export function slotTagOf(key: string): string {
  return slotTag(keySlot(key));
}

/** The first base-36 numeral (0, 1, …) found for each slot: about 170,000 CRC16s, a few ms. */
function buildTags(): string[] {
  const table = new Array<string>(SLOT_COUNT);
  let missing = SLOT_COUNT;
  for (let n = 0; missing > 0; n++) {
    const tag = n.toString(36);
    const slot = calculateSlot(tag);
    if (table[slot] === undefined) {
      table[slot] = tag;
      missing--;
    }
  }
  return table;
}
