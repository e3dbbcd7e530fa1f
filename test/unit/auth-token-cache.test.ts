import { describe, expect, it } from "vitest";
import { cachedVerifier, type TokenVerifier } from "../../src/auth/index.js";
import { unauthorized } from "../../src/auth/failure.js";
import { principalFromClaims } from "../../src/auth/principal.js";

/** A verifier that accepts `good-*` tokens expiring at `exp` (s), counting its calls. */
function fakeVerifier(exp: number) {
  const state = { calls: 0, generation: 0, accept: true };
  const verifier: TokenVerifier = {
    keysGeneration: () => state.generation,
    verify(token) {
      state.calls++;
      if (!state.accept || !token.startsWith("good-"))
        return Promise.resolve(unauthorized("no", "refused", true));
      return Promise.resolve(principalFromClaims("jwt", { sub: token, exp }));
    },
  };
  return { verifier, state };
}

describe("the cache of verified tokens", () => {
  const t0 = 1_800_000_000_000;

  it("verifies a token once and answers it again from the cache", async () => {
    const clock = { now: t0 };
    const { verifier, state } = fakeVerifier(t0 / 1000 + 3600);
    const cached = cachedVerifier(verifier, { maxAgeMs: 60_000, now: () => clock.now });
    expect(await cached.verify("good-a")).toMatchObject({ subject: "good-a" });
    expect(await cached.verify("good-a")).toMatchObject({ subject: "good-a" });
    expect(await cached.verify("good-b")).toMatchObject({ subject: "good-b" });
    expect(state.calls).toBe(2);
  });

  it("checks a token again after the cache's max age", async () => {
    const clock = { now: t0 };
    const { verifier, state } = fakeVerifier(t0 / 1000 + 3600);
    const cached = cachedVerifier(verifier, { maxAgeMs: 60_000, now: () => clock.now });
    await cached.verify("good-a");
    clock.now += 59_000;
    await cached.verify("good-a");
    expect(state.calls).toBe(1);
    clock.now += 2_000;
    state.accept = false;
    expect(await cached.verify("good-a")).toMatchObject({ kind: "failure" });
    expect(state.calls).toBe(2);
  });

  it("never answers a token from the cache past its exp", async () => {
    const clock = { now: t0 };
    const { verifier, state } = fakeVerifier(t0 / 1000 + 10);
    const cached = cachedVerifier(verifier, { maxAgeMs: 60_000, now: () => clock.now });
    await cached.verify("good-a");
    clock.now += 9_000;
    await cached.verify("good-a");
    expect(state.calls).toBe(1);
    clock.now += 1_500;
    state.accept = false;
    expect(await cached.verify("good-a")).toMatchObject({ kind: "failure" });
    expect(state.calls).toBe(2);
  });

  it("checks every cached token again once the keys were fetched again (a rotation)", async () => {
    const { verifier, state } = fakeVerifier(t0 / 1000 + 3600);
    const cached = cachedVerifier(verifier, { maxAgeMs: 60_000, now: () => t0 });
    await cached.verify("good-a");
    state.generation++;
    state.accept = false;
    expect(await cached.verify("good-a")).toMatchObject({ kind: "failure" });
    expect(await cached.verify("good-a")).toMatchObject({ kind: "failure" });
    expect(state.calls).toBe(3);
  });

  it("does not remember refusals, and is off with a max age of 0", async () => {
    const { verifier, state } = fakeVerifier(t0 / 1000 + 3600);
    const cached = cachedVerifier(verifier, { maxAgeMs: 60_000, now: () => t0 });
    await cached.verify("bad");
    await cached.verify("bad");
    expect(state.calls).toBe(2);
    const off = cachedVerifier(verifier, { maxAgeMs: 0 });
    await off.verify("good-a");
    await off.verify("good-a");
    expect(state.calls).toBe(4);
  });

  it("keeps at most maxEntries tokens, dropping the least recently used", async () => {
    const { verifier, state } = fakeVerifier(t0 / 1000 + 3600);
    const cached = cachedVerifier(verifier, { maxAgeMs: 60_000, maxEntries: 2, now: () => t0 });
    for (const token of ["good-a", "good-b", "good-c", "good-a"]) await cached.verify(token);
    expect(state.calls).toBe(4);
  });
});
