import { gzipSync } from "node:zlib";
import { afterAll, beforeAll } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createHost, type Host } from "../../src/host/host.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { AppendRequest } from "../../src/store/state-store.js";
import { allComponents } from "../fixtures/components.js";
import { rawRequest, type RawResponse } from "../support/raw-http.js";

/**
 * The host under hostile input and the raw-socket requests its cases send. `port` is a live
 * binding: it holds the host's port once `useHostileHost()`'s beforeAll has run.
 */

export const REQUEST_TIMEOUT_MS = 1000;
export const BODY_LIMIT = 1024 * 1024;
export const VICTIM = "victim-1";

export let port: number;

/** The store, counting what reaches it: a hostile request must not write anything. */
class WatchedStore extends MemoryStore {
  appends = 0;
  override append(request: AppendRequest) {
    this.appends++;
    return super.append(request);
  }
}
export const store = new WatchedStore();

/** Starts the host on the watched store for the calling test file, and closes it after. */
export function useHostileHost(): void {
  let host: Host;
  beforeAll(async () => {
    const config = loadConfig({
      PORT: "0",
      METRICS_PORT: "0",
      ADMIN_PORT: "0",
      KNSTATE_HOST: "127.0.0.1",
      KNSTATE_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`,
    });
    host = createHost({ config, components: allComponents, store });
    port = await host.listen(0, "127.0.0.1");
  });
  afterAll(async () => {
    await host?.close();
  });
}

type Headers = ReadonlyArray<readonly [string, string]>;

export const ceHeaders = (overrides: Record<string, string | undefined> = {}): Headers => {
  const base: Record<string, string | undefined> = {
    "ce-specversion": "1.0",
    "ce-id": `hostile-${Math.random().toString(36).slice(2)}`,
    "ce-source": "/hostile",
    "ce-type": "com.example.counter.increment",
    "ce-subject": VICTIM,
    ...overrides,
  };
  return Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined);
};

export const binary = (
  overrides: Record<string, string | undefined>,
  body?: string | Buffer,
  contentType?: string,
) =>
  rawRequest(port, {
    headers: [...ceHeaders(overrides), ...(contentType ? ([["Content-Type", contentType]] as const) : [])],
    ...(body === undefined ? {} : { body }),
  });

export const structuredEvent = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: `hostile-${Math.random().toString(36).slice(2)}`,
    source: "/hostile",
    type: "com.example.counter.increment",
    subject: VICTIM,
    ...overrides,
  };
  for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
  return event;
};

export const structured = (
  body: string | Buffer | Record<string, unknown>,
  contentType = "application/cloudevents+json",
) =>
  rawRequest(port, {
    headers: [["Content-Type", contentType]],
    body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

export const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

/** `{"k0":0,"k1":0,…}` with short base-36 keys, so 100,000 of them stay under the body limit. */
export const manyKeys = (count: number) => {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"${i.toString(36)}":0`);
  return `{${parts.join(",")}}`;
};

/** 64 MiB of zeros, gzipped to about 64 KiB: inflating it would be a memory bomb. */
export const gzipBomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));

export interface Case {
  readonly name: string;
  readonly send: () => Promise<RawResponse>;
  readonly status: number;
  /** The problem `type`, when it matters which one. */
  readonly problem?: string;
  /** Refused by HTTP framing: a bare 4xx and a closed connection, or just a closed connection. */
  readonly transport?: boolean;
  /** Must be answered within this many milliseconds. */
  readonly withinMs?: number;
}

export const invalidEvent = "/problems/invalid-cloudevent";
export const invalidJson = "/problems/invalid-json";
export const invalidData = "/problems/invalid-command-data";
