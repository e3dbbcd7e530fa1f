import { randomUUID } from "node:crypto";
import type { Component } from "../../../src/entity/define.js";
import { toModel } from "../../../src/entity/model.js";
import { Pipeline, type PipelineOptions } from "../../../src/pipeline/index.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import type { AppendRequest, StateStore } from "../../../src/store/state-store.js";
import counter from "../../../functions/counter/index.js";

export const counterModel = toModel(counter as unknown as Component);

/** A MemoryStore that counts its calls and keeps the appends it was asked for. */
export class CountingStore extends MemoryStore {
  loads = 0;
  checks = 0;
  readonly appends: AppendRequest[] = [];
  override append(request: AppendRequest) {
    this.appends.push(request);
    return super.append(request);
  }
  override load(...args: Parameters<StateStore["load"]>) {
    this.loads++;
    return super.load(...args);
  }
  override check(...args: Parameters<StateStore["check"]>) {
    this.checks++;
    return super.check(...args);
  }
}

/** A MemoryStore whose appends wait until `release()`: a command stays in flight as long as a test needs. */
export class GatedStore extends MemoryStore {
  #open: Promise<void>;
  #release!: () => void;
  constructor() {
    super();
    this.#open = new Promise((resolve) => (this.#release = resolve));
  }
  release(): void {
    this.#release();
  }
  override async append(request: AppendRequest) {
    await this.#open;
    return super.append(request);
  }
}

export function pipeline(store: StateStore, options: Partial<PipelineOptions> = {}): Pipeline {
  return new Pipeline({
    store,
    cache: { enabled: true, maxEntities: 100 },
    groupCommit: { enabled: true, maxBatch: 64 },
    conflictRetries: 50,
    retryBackoffMs: { base: 1, max: 5 },
    dedupTtlMs: 60_000,
    newId: randomUUID,
    ...options,
  });
}

export const increment = (entityId: string, extra: { dedupId?: string } = {}) => ({
  model: counterModel,
  entityId,
  command: "increment",
  data: { by: 1 },
  ...extra,
});
