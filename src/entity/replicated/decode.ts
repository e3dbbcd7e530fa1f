import { parseLease } from "./apply.js";
import { LETTER, decodeKey, parseJson, splitCell, type Cells } from "./cells.js";
import type { EntrySpec, LeaseState, ValueSpecs, VoteState, VoteValue } from "./types.js";

/** One value's cells, as found under its field (and key): scalar, elements or voters. */
interface Gathered {
  scalar?: string;
  members: Array<[name: string, value: string]>;
}

/**
 * The merged values of an entity from its cells, at `nowMs` on the store's clock (expired
 * votes and leases read as gone). Every declared field has a value: 0, false, undefined, [],
 * no votes, a free lease, an empty map.
 */
export function decodeValues(specs: ValueSpecs, cells: Cells, nowMs: number): Record<string, unknown> {
  const top = new Map<string, Gathered>();
  const entries = new Map<string, Map<string, Gathered>>();
  const gathered = (field: string, key?: string): Gathered => {
    if (key === undefined) return getOr(top, field, () => ({ members: [] }));
    return getOr(
      getOr(entries, field, () => new Map<string, Gathered>()),
      key,
      () => ({ members: [] }),
    );
  };
  for (const [name, value] of cells) {
    const bar = name.indexOf("|", 2);
    const field = bar < 0 ? name.slice(2) : name.slice(2, bar);
    const spec = Object.hasOwn(specs, field) ? specs[field] : undefined;
    if (spec === undefined || name[1] !== "|") continue;
    const letter = name[0];
    if (letter !== LETTER[spec.kind] && (spec.kind !== "map" || letter !== LETTER[spec.value.kind])) continue;
    let rest = bar < 0 ? undefined : name.slice(bar + 1);
    let key: string | undefined;
    if (spec.kind === "map") {
      if (rest === undefined) continue;
      const end = rest.indexOf("|");
      key = decodeKey(end < 0 ? rest : rest.slice(0, end));
      rest = end < 0 ? undefined : rest.slice(end + 1);
      if (name[0] === "k") {
        gathered(field, key);
        continue;
      }
    }
    const into = gathered(field, key);
    if (rest === undefined) into.scalar = value;
    else into.members.push([rest, value]);
  }
  const values: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(specs)) {
    if (spec.kind !== "map") {
      values[field] = decodeEntry(spec, top.get(field) ?? { members: [] }, nowMs);
      continue;
    }
    const map: Record<string, unknown> = {};
    const keys = [...(entries.get(field) ?? new Map<string, Gathered>())].sort(([a], [b]) => compare(a, b));
    for (const [key, entry] of keys) map[key] = decodeEntry(spec.value, entry, nowMs);
    values[field] = map;
  }
  return values;
}

function decodeEntry(spec: EntrySpec, cells: Gathered, nowMs: number): unknown {
  switch (spec.kind) {
    case "counter":
      return Number(cells.scalar ?? "0");
    case "flag":
      return cells.scalar === "1";
    case "register":
      return cells.scalar === undefined ? undefined : parseJson(splitCell(cells.scalar)[1]);
    case "set":
      return cells.members
        .map(([element]) => element)
        .sort(compare)
        .map(parseJson);
    case "vote":
      return voteState(cells.members, nowMs);
    case "lease":
      return leaseState(cells.scalar, nowMs);
  }
}

function voteState(members: Array<[string, string]>, nowMs: number): VoteState {
  const votes: Record<string, VoteValue> = {};
  const tally: Record<string, number> = {};
  let voters = 0;
  let yes = 0;
  for (const [voter, cell] of members.sort(([a], [b]) => compare(a, b))) {
    const [expiresAt, json] = splitCell(cell);
    if (expiresAt > 0 && expiresAt <= nowMs) continue;
    const value = parseJson(json) as VoteValue;
    votes[voter] = value;
    tally[String(value)] = (tally[String(value)] ?? 0) + 1;
    voters++;
    if (value === true) yes++;
  }
  return {
    votes,
    voters,
    tally,
    atLeastOne: yes > 0,
    majority: yes * 2 > voters,
    all: voters > 0 && yes === voters,
  };
}

function leaseState(cell: string | undefined, nowMs: number): LeaseState {
  const { token, expiresAt, holder } = parseLease(cell);
  const live = holder !== "" && expiresAt > nowMs;
  return { holder: live ? holder : null, token, expiresAt: live ? expiresAt : 0 };
}

/** UTF-16 code unit order, the same in every process. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}
