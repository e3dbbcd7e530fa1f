import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { encodeHeaderValue } from "../../src/cloudevents/header-value.js";
import { HostError } from "../../src/errors/host-error.js";
import { ROOT } from "../support/host.js";

/**
 * The CloudEvents project's JSON-format conformance events (cloudevents/conformance,
 * format/json), loaded for the conformance tests, and how they travel in binary mode.
 */

/** A copy of cloudevents/conformance format/json; provenance and license in its NOTICE and LICENSE. */
export const CONFORMANCE_DIR = path.join(ROOT, "test/fixtures/cloudevents-conformance");

export type Json = Record<string, unknown>;
export interface EventTest {
  readonly id: string;
  readonly event: Json;
}
export interface BatchTest {
  readonly id: string;
  readonly batch: readonly unknown[];
}

export function load<T>(file: string): readonly T[] {
  const parsed = JSON.parse(readFileSync(path.join(CONFORMANCE_DIR, file), "utf8")) as { tests: T[] };
  if (!Array.isArray(parsed.tests) || parsed.tests.length === 0) throw new Error(`${file} holds no tests`);
  return parsed.tests;
}

export const validEvents = load<EventTest>("valid-events.json");
export const invalidEvents = load<EventTest>("invalid-events.json");
export const validBatches = load<BatchTest>("valid-batches.json");
export const invalidBatches = load<BatchTest>("invalid-batches.json");

/** The attribute each invalid event gets wrong: the 400's detail must name it. */
export const blamed: Record<string, RegExp> = {
  invalidNoSpecVersion: /specversion/,
  invalidNoId: /"id"/,
  invalidNoType: /"type"/,
  invalidNoSource: /"source"/,
  invalidTimeGarbage: /"time"/,
  invalidTimeToMinute: /"time"/,
  invalidTimeOffsetX: /"time"/,
  invalidTimeOffsetOutOfRange: /"time"/,
  invalidTimeOffsetNonInteger: /"time"/,
  invalidTimeOffsetHourOnly: /"time"/,
  invalidEmptyId: /"id"/,
  invalidEmptyType: /"type"/,
  invalidEmptySource: /"source"/,
  invalidEmptySpecVersion: /specversion/,
  invalidUnknownSpecVersion: /specversion "0\.9"/,
  invalidNonRfc2046DataContentType: /datacontenttype/,
  invalidEmptyDataContentType: /datacontenttype/,
  invalidEmptyDataSchema: /dataschema/,
  invalidEmptySubject: /"subject"/,
  invalidNumericId: /"id"/,
  invalidObjectId: /"id"/,
  invalidCapitalizedExtension: /MyExtension/,
  invalidPunctuatedExtension: /my\.extension/,
  invalidNonIntegerExtensionValue: /my\.extension/,
  invalidBothDataAndDataBase64: /data_base64/,
};

/**
 * Invalid events whose fault cannot travel in headers: header names are case-insensitive and
 * every header value is a string, and binary mode has no data_base64.
 */
export const notInBinary = new Set([
  "invalidNumericId",
  "invalidObjectId",
  "invalidCapitalizedExtension",
  "invalidBothDataAndDataBase64",
  "invalidNonIntegerExtensionValue",
]);

/** Routes a conformance event to the echo action, keeping every attribute under test. */
export function routed(event: Json): Json {
  return event.type === "io.cloudevents.test" ? { ...event, type: "com.example.echo.say" } : event;
}

/** The event as a binary-mode message: attributes as percent-encoded `ce-` headers, data as the body. */
export function toBinaryMessage(event: Json): { headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = {};
  let body = Buffer.alloc(0);
  const contentType = typeof event.datacontenttype === "string" ? event.datacontenttype : undefined;
  for (const [name, value] of Object.entries(event)) {
    if (value === null || value === undefined) continue;
    if (name === "data") {
      const json = contentType === undefined || contentType.includes("json");
      body = Buffer.from(json || typeof value !== "string" ? JSON.stringify(value) : value);
    } else if (name === "data_base64") body = Buffer.from(scalar(value), "base64");
    else if (name === "datacontenttype") headers["content-type"] = scalar(value);
    else headers[`ce-${name}`] = encodeHeaderValue(scalar(value));
  }
  return { headers, body };
}

/** An attribute value as binary mode carries it: a string. */
export function scalar(value: unknown): string {
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

export const rawHeadersOf = (headers: Record<string, string>) => Object.entries(headers).flat();

export function expectHostError(run: () => unknown, detail?: RegExp): HostError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HostError);
  const error = thrown as HostError;
  expect(error.status).toBe(400);
  expect(error.detail.length).toBeGreaterThan(10);
  if (detail) expect(error.detail).toMatch(detail);
  return error;
}
