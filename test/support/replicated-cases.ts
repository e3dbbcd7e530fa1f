import {
  counter,
  flag,
  lease,
  map,
  operations,
  register,
  set,
  vote,
  type Json,
  type Operations,
  type ReplicatedOp,
  type ValueSpecs,
} from "knstate";

/**
 * Cases that the memory apply and the Redis script must both pass, step for step: the same
 * operations, the same merged values. `observed` plays concurrency: the sequence of the state
 * a command was decided on (default: the current one, i.e. it saw everything before it).
 */
export type Step =
  | { readonly ops: readonly ReplicatedOp[]; readonly observed?: number; readonly refused?: RegExp }
  | { readonly wait: number };

export interface Case {
  readonly name: string;
  readonly specs: ValueSpecs;
  readonly steps: readonly Step[];
  /** The merged values after the steps (leases without `expiresAt`, which depends on the clock). */
  readonly expected: Record<string, unknown>;
}

const SPECS = {
  n: counter(),
  on: flag(),
  last: register<string>(),
  first: register<string>({ wins: "first" }),
  tags: set<Json>(),
  poll: vote<string>(),
  yes: vote(),
  here: vote({ ttlMs: 1000 }),
  byKey: map(counter()),
  groups: map(set<string>()),
  ballot: map(register<string>({ wins: "first" })),
  leader: lease(),
} as const;
const o: Operations<typeof SPECS> = operations(SPECS);
const EMPTY_VOTE = { votes: {}, voters: 0, tally: {}, atLeastOne: false, majority: false, all: false };
const FREE = { holder: null, token: 0 };

/** The expected values: the defaults, with `changes` over them. */
function values(changes: Record<string, unknown>): Record<string, unknown> {
  return {
    n: 0,
    on: false,
    last: undefined,
    first: undefined,
    tags: [],
    poll: EMPTY_VOTE,
    yes: EMPTY_VOTE,
    here: EMPTY_VOTE,
    byKey: {},
    groups: {},
    ballot: {},
    leader: FREE,
    ...changes,
  };
}
const one = (...ops: ReplicatedOp[]): Step => ({ ops });

export const CASES: readonly Case[] = [
  {
    name: "a counter adds increments and decrements",
    specs: SPECS,
    steps: [one(o.n.increment(5), o.n.decrement(2)), one(o.n.increment(-1)), one(o.n.increment())],
    expected: values({ n: 3 }),
  },
  {
    name: "a counter refuses to leave the safe integer range, changing nothing",
    specs: SPECS,
    steps: [
      one(o.n.increment(Number.MAX_SAFE_INTEGER)),
      { ops: [o.on.enable(), o.n.increment(1)], refused: /safe integer range/ },
    ],
    expected: values({ n: Number.MAX_SAFE_INTEGER }),
  },
  {
    name: "a flag stays enabled",
    specs: SPECS,
    steps: [one(o.on.enable()), one(o.on.enable())],
    expected: values({ on: true }),
  },
  {
    name: "a register keeps the last write, or the highest clock given",
    specs: SPECS,
    steps: [one(o.last.set("a")), one(o.last.set("b")), one(o.first.set("a")), one(o.first.set("b"))],
    expected: values({ last: "b", first: "a" }),
  },
  {
    name: "a register with explicit clocks keeps the highest, and the stored one on a tie",
    specs: SPECS,
    steps: [one(o.last.set("x", 100)), one(o.last.set("y", 50)), one(o.last.set("z", 100))],
    expected: values({ last: "x" }),
  },
  {
    name: "a set removes an element that the remover saw added",
    specs: SPECS,
    steps: [one(o.tags.add("x"), o.tags.add("y")), one(o.tags.remove("x"))],
    expected: values({ tags: ["y"] }),
  },
  {
    name: "a concurrent add wins over a remove applied after it",
    specs: SPECS,
    steps: [one(o.tags.add("x")), one(o.tags.add("x")), { ops: [o.tags.remove("x")], observed: 1 }],
    expected: values({ tags: ["x"] }),
  },
  {
    name: "a concurrent add wins over a remove applied before it",
    specs: SPECS,
    steps: [one(o.tags.add("x")), { ops: [o.tags.remove("x")], observed: 1 }, one(o.tags.add("x"))],
    expected: values({ tags: ["x"] }),
  },
  {
    name: "set elements are identified by their canonical JSON",
    specs: SPECS,
    steps: [one(o.tags.add({ b: 1, a: [2, "|"] }), o.tags.add({ a: [2, "|"], b: 1 }), o.tags.add(3))],
    expected: values({ tags: [3, { a: [2, "|"], b: 1 }] }),
  },
  {
    name: "a voter's new vote replaces their old one",
    specs: SPECS,
    steps: [one(o.poll.vote("ann", "red"), o.poll.vote("bob", "blue")), one(o.poll.vote("ann", "blue"))],
    expected: values({
      poll: { ...EMPTY_VOTE, votes: { ann: "blue", bob: "blue" }, voters: 2, tally: { blue: 2 } },
    }),
  },
  {
    name: "boolean votes report at least one, a majority and all",
    specs: SPECS,
    steps: [
      one(o.yes.vote("a", true), o.yes.vote("b", true), o.yes.vote("c", false)),
      one(o.yes.withdraw("c")),
    ],
    expected: values({
      yes: {
        votes: { a: true, b: true },
        voters: 2,
        tally: { true: 2 },
        atLeastOne: true,
        majority: true,
        all: true,
      },
    }),
  },
  {
    name: "a voter that stops heartbeating disappears after the TTL",
    specs: SPECS,
    steps: [
      one(o.here.vote("ann", true), o.here.vote("bob", true)),
      { wait: 600 },
      one(o.here.vote("bob", true)),
      { wait: 600 },
    ],
    expected: values({
      here: {
        votes: { bob: true },
        voters: 1,
        tally: { true: 1 },
        atLeastOne: true,
        majority: true,
        all: true,
      },
    }),
  },
  {
    name: "a map removes an entry, and keys with separators stay apart",
    specs: SPECS,
    steps: [
      one(o.byKey.at("a|b").increment(1), o.byKey.at("a%7Cb").increment(2), o.byKey.at("c").increment(3)),
      one(o.byKey.remove("c")),
      one(o.groups.at("g").add("x"), o.groups.at("h").add("y")),
      one(o.groups.remove("g")),
    ],
    expected: values({ byKey: { "a%7Cb": 2, "a|b": 1 }, groups: { h: ["y"] } }),
  },
  {
    name: "a concurrent update of an entry wins over its removal",
    specs: SPECS,
    steps: [
      one(o.byKey.at("a").increment(1)),
      one(o.byKey.at("a").increment(1)),
      { ops: [o.byKey.remove("a")], observed: 1 },
    ],
    expected: values({ byKey: { a: 2 } }),
  },
  {
    name: "a map of first-write registers counts each voter's first choice only",
    specs: SPECS,
    steps: [
      one(o.ballot.at("ann").set("red")),
      one(o.ballot.at("ann").set("blue"), o.ballot.at("bob").set("blue")),
    ],
    expected: values({ ballot: { ann: "red", bob: "blue" } }),
  },
  {
    name: "a lease has one holder; a new holder gets a higher token and the old token is refused",
    specs: SPECS,
    steps: [
      one(o.leader.acquire("p1", 60_000)),
      one(o.leader.acquire("p2", 60_000)),
      one(o.leader.fence(1), o.n.increment()),
      one(o.leader.release("p1")),
      one(o.leader.acquire("p2", 60_000)),
      { ops: [o.leader.fence(1), o.n.increment()], refused: /stale/ },
    ],
    expected: values({ n: 1, leader: { holder: "p2", token: 2 } }),
  },
  {
    name: "an expired lease goes to the next acquirer with a higher token",
    specs: SPECS,
    steps: [
      one(o.leader.acquire("p1", 150)),
      one(o.leader.acquire("p1", 150)),
      { wait: 300 },
      one(o.leader.acquire("p2", 60_000)),
    ],
    expected: values({ leader: { holder: "p2", token: 2 } }),
  },
];

/** Values as the cases compare them: leases without their clock-dependent expiry. */
export function comparable(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    if (value !== null && typeof value === "object" && "token" in value && "holder" in value) {
      const { holder, token } = value;
      out[field] = { holder, token };
    } else out[field] = value;
  }
  return out;
}
