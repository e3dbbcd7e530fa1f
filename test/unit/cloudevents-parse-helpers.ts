import { expect } from "vitest";
import { HostError } from "../../src/errors/host-error.js";

/** Helpers for the CloudEvents parsing tests: the HostError a parse throws, and minimal events. */

export function thrown(run: () => unknown): HostError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HostError);
    return error as HostError;
  }
  throw new Error("expected a HostError, but nothing was thrown");
}

export const binaryHeaders = (extra: Record<string, string> = {}): string[] =>
  Object.entries({
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "/test",
    "ce-type": "com.example.counter.increment",
    ...extra,
  }).flat();

export const structuredBody = (event: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ specversion: "1.0", id: "1", source: "/test", type: "t", ...event }));
