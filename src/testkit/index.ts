import { isDeepStrictEqual } from "node:util";
import type {
  Action,
  ActionContext,
  CommandContext,
  EventSourcedEntity,
  ValueEntity,
} from "../entity/define.js";
import { InvalidInput, type InputSchema } from "../entity/input.js";
import { toModel, type DomainEvent, type EntityModel } from "../entity/model.js";
import type { StoredTimer } from "../store/state-store.js";
import { TestTimers } from "./clock.js";

/** The data type a command accepts: its schema's output, or its handler's second parameter. */
export type CommandInput<C> = C extends { readonly input: InputSchema<infer I> }
  ? I
  : C extends (state: never, data: infer D, ctx: never) => unknown
    ? D
    : never;

/** What one command did. */
export interface CommandRun<S> {
  /** The events it emitted (for a value entity, one `$state` event per update). */
  readonly events: readonly DomainEvent[];
  readonly reply: unknown;
  /** The rejection reason, when the handler called `reject()`. */
  readonly rejected: string | undefined;
  /** The input schema's message, when the data was invalid (the host answers 400). */
  readonly invalid: string | undefined;
  /** The state and version after the command. */
  readonly state: S;
  readonly version: number;
}

export interface EntityTestKit<S, CH> {
  readonly entityId: string;
  readonly state: S;
  readonly version: number;
  /** Every event stored so far, including `given` ones. */
  readonly events: readonly DomainEvent[];
  /** Seeds history, as if these events had been stored. */
  given(...events: readonly DomainEvent[]): this;
  /** Runs a command the way the host does: validate, decide, store (in memory), reply. */
  run<K extends keyof CH & string>(command: K, data?: CommandInput<CH[K]>): CommandRun<S>;
  /** The test clock (ms since epoch); starts at the real time when the kit is made. */
  readonly now: number;
  /** Timers scheduled and not fired or cancelled, by due time. */
  readonly timers: readonly StoredTimer[];
  /** Moves the clock forward and fires the timers due on the way, in order: what each did. */
  advanceTime(ms: number): Array<CommandRun<S> & { readonly timer: string }>;
}

/**
 * Runs an entity's commands in memory, with no server and no store, and checks on every
 * command that the state is not mutated in place and that replaying the stored events
 * (through JSON, as a store does) rebuilds exactly the same state.
 *
 * @example
 * const cart = testEntity(shoppingCart, "cart-1");
 * cart.run("addItem", { sku: "apple", quantity: 2 });
 * expect(cart.state.items).toEqual({ apple: 2 });
 * expect(cart.run("addItem", { sku: "pear", quantity: 0 }).rejected).toMatch(/quantity/);
 */
export function testEntity<S, EH, CH>(
  entity: EventSourcedEntity<S, EH, CH> | ValueEntity<S, CH>,
  entityId = "test-entity",
): EntityTestKit<S, CH> {
  const model = toModel(entity as never);
  let state = deepFreeze(model.initialState(entityId)) as S;
  let version = 0;
  const events: DomainEvent[] = [];
  const clock = new TestTimers(Date.now());
  const kit: EntityTestKit<S, CH> = {
    entityId,
    get state() {
      return state;
    },
    get version() {
      return version;
    },
    get events() {
      return events;
    },
    given(...seed) {
      for (const event of seed) {
        state = deepFreeze(model.apply(state, roundTrip(event))) as S;
        events.push(event);
        version++;
      }
      return kit;
    },
    get now() {
      return clock.now;
    },
    get timers() {
      return clock.pending;
    },
    advanceTime(ms) {
      const fired: Array<CommandRun<S> & { readonly timer: string }> = [];
      clock.advance(ms, (timer) => {
        const ctx = { entityId, command: timer.command, timer: { name: timer.name, due: timer.due } };
        fired.push({ ...execute(timer.command, timer.data, ctx), timer: timer.name });
      });
      return fired;
    },
    run(command, input) {
      return execute(command, input, { entityId, command });
    },
  };
  function execute(command: string, input: unknown, ctx: CommandContext): CommandRun<S> {
    let data: unknown;
    try {
      data = model.validate(command, input);
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      return { events: [], reply: undefined, rejected: undefined, invalid: error.message, state, version };
    }
    const decision = model.execute(command, state, data, ctx);
    if (decision.kind === "rejected") {
      return {
        events: [],
        reply: undefined,
        rejected: decision.reason,
        invalid: undefined,
        state,
        version,
      };
    }
    clock.apply(model, command, decision.timers);
    const stored = decision.events.map(roundTrip);
    events.push(...stored);
    version += stored.length;
    state = deepFreeze(decision.state) as S;
    checkReplay(model, entityId, events, state);
    return {
      events: stored,
      reply: decision.reply,
      rejected: undefined,
      invalid: undefined,
      state,
      version,
    };
  }
  return kit;
}

export interface ActionTestKit<H> {
  /** Runs a handler as the host does: validate, then call; resolves with the reply data. */
  run<K extends keyof H & string>(handler: K, data?: unknown): Promise<unknown>;
}

/**
 * Runs a stateless action's handlers without a server.
 *
 * @example
 * expect(await testAction(echo).run("say", { hi: 1 })).toEqual({ hi: 1 });
 */
export function testAction<H>(action: Action<H>): ActionTestKit<H> {
  return {
    async run(handler, data) {
      const entry = (action.handlers as Record<string, unknown>)[handler] as
        | ((data: unknown, ctx: ActionContext) => unknown)
        | { input: InputSchema<unknown>; handle: (data: unknown, ctx: ActionContext) => unknown };
      const ctx: ActionContext = { type: `${action.typePrefix}.${action.name}.${handler}` };
      if (typeof entry === "function") return entry(data, ctx);
      const { parseInput } = await import("../entity/input.js");
      return entry.handle(parseInput(entry.input, data), ctx);
    },
  };
}

function roundTrip(event: DomainEvent): DomainEvent {
  // The schema version is stored with the event, so old events given to the kit are upcast.
  const json = JSON.stringify({ type: event.type, data: event.data, schemaVersion: event.schemaVersion });
  return JSON.parse(json) as DomainEvent;
}

function checkReplay(
  model: EntityModel,
  entityId: string,
  events: readonly DomainEvent[],
  state: unknown,
): void {
  let replayed = model.kind === "value" ? model.initialState(entityId) : model.initialState(entityId);
  for (const event of events) replayed = model.apply(replayed, event);
  const expected: unknown = JSON.parse(JSON.stringify(state ?? null));
  const actual: unknown = JSON.parse(JSON.stringify(replayed ?? null));
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(
      `replaying the stored events of ${model.name}/${entityId} gives ${JSON.stringify(actual)}, ` +
        `but the command left ${JSON.stringify(expected)}: event handlers must be deterministic and events JSON-serializable`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
