/**
 * Subscriptions: CloudEvents of any type (a PingSource's, a GitHub source's, another function's
 * published events) that run a command of an entity. For each subscribed type the entity names
 * the command and where the entity id comes from: the event's `subject` (the default), one of
 * its extension attributes, or a function of the event. Redeliveries are applied once (dedup on
 * `source` + `id`, as for commands).
 */

/** What a subscription sees of the incoming CloudEvent. */
export interface SubscribedEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string | undefined;
  readonly time?: string | undefined;
  readonly data: unknown;
  /** Extension attributes, by name. */
  readonly extensions: Readonly<Record<string, unknown>>;
}

/** Where the entity id comes from. */
export type EntityIdFrom =
  "subject" | { readonly extension: string } | ((event: SubscribedEvent) => string | undefined);

export interface Subscription<C extends string = string> {
  /** The command to run. */
  readonly command: C;
  /** The entity it runs on (default: the event's `subject`). */
  readonly id?: EntityIdFrom;
  /** The command's input (default: the event's data). */
  readonly data?: (event: SubscribedEvent) => unknown;
}

/** By CloudEvent type: the command's name (the id from `subject`) or a full subscription. */
export type Subscriptions<C extends string = string> = Readonly<Record<string, C | Subscription<C>>>;

/** Checks the shape at definition time, so a mistake fails when the function loads. */
export function checkSubscriptions<S extends Subscriptions<string>>(subscriptions: S): S {
  for (const [type, value] of Object.entries(subscriptions)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(type)) {
      throw new TypeError(`subscribe: ${JSON.stringify(type)} is not a CloudEvent type`);
    }
    const sub = normalize(value);
    if (typeof sub.command !== "string" || sub.command === "") {
      throw new TypeError(`subscribe[${type}]: name the command to run`);
    }
    const id = sub.id;
    const valid =
      id === undefined ||
      id === "subject" ||
      typeof id === "function" ||
      (typeof id === "object" && typeof id.extension === "string");
    if (!valid) throw new TypeError(`subscribe[${type}].id: "subject", { extension } or a function`);
  }
  return subscriptions;
}

export function normalize<C extends string>(value: C | Subscription<C>): Subscription<C> {
  return typeof value === "string" ? { command: value } : value;
}

/** The entity id `subscription` derives from `event`, or `undefined` when there is none. */
export function subscribedEntityId(subscription: Subscription, event: SubscribedEvent): string | undefined {
  const from = subscription.id ?? "subject";
  let id: unknown;
  if (from === "subject") id = event.subject;
  else if (typeof from === "function") id = from(event);
  else id = event.extensions[from.extension.toLowerCase()];
  return typeof id === "string" && id !== "" ? id : undefined;
}
