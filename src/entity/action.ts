import type { CommandContext } from "./define.js";
import type { InputSchema } from "./input.js";
import { componentNames } from "./names.js";

/** What an action handler knows about the event it handles. */
export interface ActionContext {
  readonly type: string;
  readonly event?: CommandContext["event"];
}

/* eslint-disable @typescript-eslint/no-explicit-any -- handlers declare their own data types */
export type ActionHandler<I = any> = (data: I, ctx: ActionContext) => unknown;
type AnyActionHandler =
  ActionHandler<any> | { readonly input: InputSchema<any>; readonly handle: ActionHandler<any> };
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface ActionOptions<H> {
  readonly name: string;
  readonly typePrefix: string;
  /** Handlers by name: `<typePrefix>.<name>.<handler>`. Return the reply data, or nothing for a 202. */
  readonly handlers: H;
}

export interface Action<H = unknown> {
  readonly kind: "action";
  readonly name: string;
  readonly typePrefix: string;
  readonly handlers: H;
}

/**
 * Defines stateless actions: a handler per CloudEvent type that needs no state. What it
 * returns is the reply's data; `undefined` answers 202 with an empty body.
 *
 * @example
 * export default defineAction({
 *   name: "echo",
 *   typePrefix: "com.example",
 *   handlers: { say: (data) => data },
 * });
 */
export function defineAction<const H extends Record<string, AnyActionHandler>>(
  options: ActionOptions<H>,
): Action<H> {
  return Object.freeze({
    kind: "action",
    ...componentNames("action", options, options.handlers),
    handlers: options.handlers,
  });
}
