/** Replicated entities: values that merge without conflicts, and the operations on them. */
export { counter, flag, lease, map, register, set, vote } from "./types.js";
export { defineReplicatedEntity } from "./define.js";
export { operations } from "./operations.js";
export { testReplicatedEntity } from "./testkit.js";

export type {
  CounterSpec,
  EntrySpec,
  FlagSpec,
  Json,
  LeaseSpec,
  LeaseState,
  MapSpec,
  RegisterSpec,
  SetSpec,
  StateOf,
  ValueSpec,
  ValueSpecs,
  Values,
  VoteSpec,
  VoteState,
  VoteValue,
} from "./types.js";
export type {
  OpOf,
  ReplicatedCommandHandler,
  ReplicatedCommandResult,
  ReplicatedCommands,
  ReplicatedContext,
  ReplicatedEntity,
  ReplicatedEntityOptions,
  ValidatedReplicatedCommand,
} from "./define.js";
export type { Operations, ReplicatedOp } from "./operations.js";
export type { AppliedCommand, Published, ReplicatedPublishRule } from "./publish.js";
export type { ReplicatedRun, ReplicatedTestKit } from "./testkit.js";
