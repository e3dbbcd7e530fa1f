import type { PublicEvent } from "../publish.js";

/** What a replicated entity's `publish` function sees of an applied command. */
export type AppliedCommand<I> = {
  readonly [K in keyof I & string]: {
    /** The command's name. */
    readonly command: K;
    /** Its data, as its input schema returned it. */
    readonly data: I[K];
    /**
     * The reply, when the handler chose it before the apply (`emit(ops, value)`); `undefined`
     * when the reply is computed from the values after the operations, which only the store
     * knows (the messages are written by the same atomic step that computes them).
     */
    readonly reply: unknown;
  };
}[keyof I & string];

/** Zero, one or several public events. */
export type Published = PublicEvent | readonly PublicEvent[] | undefined;

/**
 * What a replicated entity publishes to `K_SINK` for each applied command: a mapping from
 * command names to the name of the public event (its data is the command's data) or to a
 * function of the data, or one function of the applied command. An event's CloudEvent type is
 * `<typePrefix>.<name>.<event>`; an event may not be named like a command (a Trigger on that
 * type would feed the event back as a command). Absent: nothing is published, and the apply
 * carries no outbox at all.
 */
export type ReplicatedPublishRule<I> =
  | { readonly [K in keyof I]?: string | ((data: I[K], reply: unknown) => Published) }
  | ((applied: AppliedCommand<I>) => Published);

/** A compiled rule: the public events of an applied command (`undefined` or empty: none). */
export type PublishCommand = (
  command: string,
  data: unknown,
  reply: unknown,
) => readonly PublicEvent[] | undefined;

const EVENT = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/**
 * `rule` as a function, after checking what can be checked at definition time: the shape, the
 * command names, and event names that are not command names. Throws a `TypeError` otherwise.
 */
export function compileReplicatedPublish(
  entity: string,
  commands: readonly string[],
  rule: unknown,
): PublishCommand | undefined {
  if (rule === undefined) return undefined;
  const isCommand = new Set(commands);
  const check = (events: Published, command: string): readonly PublicEvent[] | undefined => {
    if (events === undefined) return undefined;
    const list: readonly PublicEvent[] = Array.isArray(events) ? events : [events as PublicEvent];
    for (const event of list) checkName(entity, isCommand, (event as PublicEvent | null)?.type, command);
    return list;
  };
  if (typeof rule === "function") {
    const map = rule as (applied: { command: string; data: unknown; reply: unknown }) => Published;
    return (command, data, reply) => check(map({ command, data, reply }), command);
  }
  if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
    throw new TypeError(
      `replicated entity ${entity}: publish must map command names to event names (e.g. { like: "liked" }) ` +
        `or be a function of the applied command; true or a list would publish the commands' own types, ` +
        `which a Trigger would feed back as commands`,
    );
  }
  const byCommand = new Map<string, PublishCommand>();
  for (const [command, target] of Object.entries(rule as Record<string, unknown>)) {
    if (!isCommand.has(command)) {
      throw new TypeError(`replicated entity ${entity}: publish names "${command}", which is not a command`);
    }
    if (typeof target === "string") {
      checkName(entity, isCommand, target, command);
      const name = target;
      byCommand.set(command, (_c, data) => [{ type: name, data }]);
    } else if (typeof target === "function") {
      const map = target as (data: unknown, reply: unknown) => Published;
      byCommand.set(command, (c, data, reply) => check(map(data, reply), c));
    } else if (target !== undefined) {
      throw new TypeError(
        `replicated entity ${entity}: publish.${command} must be an event name or a function of the data`,
      );
    }
  }
  if (byCommand.size === 0) return undefined;
  return (command, data, reply) => byCommand.get(command)?.(command, data, reply);
}

function checkName(entity: string, commands: ReadonlySet<string>, name: unknown, command: string): void {
  if (typeof name !== "string" || !EVENT.test(name)) {
    throw new TypeError(
      `replicated entity ${entity}: the event published for ${command} must have a name matching ${EVENT.source}, got ${JSON.stringify(name)}`,
    );
  }
  if (commands.has(name)) {
    throw new TypeError(
      `replicated entity ${entity}: an event published for ${command} is named "${name}", like a command: ` +
        `its type would be the command's own, and a Trigger on it would run the command again; give the event a name of its own (e.g. a past tense)`,
    );
  }
}
