import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailable } from "../../src/errors/host-error.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { AppendRequest, AppendResult, EntityKey, StateStore } from "../../src/store/state-store.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";
import { expectProblem } from "./wire-contract-host.js";

/**
 * The host held to its wire contract (README "Wire contract") when its store fails: 503 problems
 * with Retry-After, and recovery once the store is back.
 */

/** A memory store that can be switched to failing (as a lost Redis) or to losing every append race. */
class UnreliableStore implements StateStore {
  readonly name = "unreliable";
  mode: "ok" | "down" | "contended" = "ok";
  readonly #inner = new MemoryStore();

  #gate(): void {
    if (this.mode === "down") throw new StoreUnavailable("connection to the store lost");
  }
  load(key: EntityKey, dedupIds: readonly string[]) {
    this.#gate();
    return this.#inner.load(key, dedupIds);
  }
  check(key: EntityKey, dedupIds: readonly string[]) {
    this.#gate();
    return this.#inner.check(key, dedupIds);
  }
  async append(request: AppendRequest): Promise<AppendResult> {
    this.#gate();
    if (this.mode === "contended") return { kind: "conflict", version: request.expectedVersion + 1 };
    return this.#inner.append(request);
  }
  readEvents(key: EntityKey, from: number, to?: number) {
    this.#gate();
    return this.#inner.readEvents(key, from, to);
  }
  delete(key: EntityKey) {
    this.#gate();
    return this.#inner.delete(key);
  }
  ping() {
    return this.mode === "down" ? Promise.reject(new Error("down")) : Promise.resolve();
  }
  close() {
    return this.#inner.close();
  }
}

describe("when the store fails", () => {
  let store: UnreliableStore;
  let failing: RunningHost;
  beforeAll(async () => {
    store = new UnreliableStore();
    failing = await startHost({ store, env: { KNSTATE_CONFLICT_RETRIES: "2", KNSTATE_CACHE: "false" } });
  });
  afterAll(async () => {
    await failing?.close();
  });

  it("answers 503 with Retry-After while the store is unavailable, and recovers", async () => {
    store.mode = "down";
    const viaEvent = await postEvent(failing.url, {
      id: "down-1",
      type: "com.example.counter.increment",
      subject: "s1",
    });
    const problem = await expectProblem(viaEvent, 503, "/problems/store-unavailable");
    expect(problem.detail).not.toMatch(/at .*\.ts/);
    expect(viaEvent.headers.get("retry-after")).toBe("1");
    const viaApi = await fetch(`${failing.url}/counter/s1/increment`, { method: "POST" });
    await expectProblem(viaApi, 503, "/problems/store-unavailable");
    expect(viaApi.headers.get("retry-after")).toBe("1");
    expect((await fetch(`${failing.url}/readyz`)).status).toBe(503);

    store.mode = "ok";
    const retried = await postEvent(failing.url, {
      id: "down-1",
      type: "com.example.counter.increment",
      subject: "s1",
    });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ value: 1 });
  });

  it("answers 503 with Retry-After when concurrent writers keep winning", async () => {
    store.mode = "contended";
    try {
      const res = await postEvent(failing.url, {
        id: "race-1",
        type: "com.example.counter.increment",
        subject: "s2",
      });
      await expectProblem(res, 503, "/problems/conflict-retries-exhausted");
      expect(res.headers.get("retry-after")).toBe("1");
    } finally {
      store.mode = "ok";
    }
    const res = await postEvent(failing.url, {
      id: "race-1",
      type: "com.example.counter.increment",
      subject: "s2",
    });
    expect(await res.json()).toEqual({ value: 1 });
  });
});
