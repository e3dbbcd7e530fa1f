/**
 * knstate: stateful serverless functions for Knative. Define entities and actions here;
 * `knstate serve` hosts them.
 */
export { defineAction, defineEntity, defineValueEntity } from "./entity/define.js";
export { emit, reject, reply, update } from "./entity/effects.js";
export { cancel, schedule } from "./entity/timers.js";
export { InvalidInput } from "./entity/input.js";
export * from "./entity/replicated/index.js";

export type {
  Action,
  ActionContext,
  ActionHandler,
  CommandContext,
  CommandHandler,
  CommandResult,
  Component,
  EventOf,
  EventSourcedEntity,
  EventSourcedEntityOptions,
  ValidatedCommand,
  ValueCommandResult,
  ValueEntity,
  ValueEntityOptions,
} from "./entity/define.js";
export type { AccessRequest, AccessRule, Caller } from "./entity/access.js";
export type { Emit, Rejection, Reply, Update } from "./entity/effects.js";
export type { CancelTimer, ScheduleTimer, TimerEffect, TimerWhen } from "./entity/timers.js";
export type { UpcastResult, Upcasters, UpcastSource } from "./entity/evolution.js";
export type { InputSchema, InferInput, StandardSchemaV1 } from "./entity/input.js";
export type { DomainEvent } from "./entity/model.js";
