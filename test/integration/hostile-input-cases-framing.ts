import { rawExchange, rawRequest } from "../support/raw-http.js";
import {
  ceHeaders,
  gzipBomb,
  invalidEvent,
  port,
  REQUEST_TIMEOUT_MS,
  structuredEvent,
  type Case,
} from "./hostile-input-host.js";

/** Hostile HTTP framing: duplicate and conflicting headers, wrong Content-Length, request smuggling, slow clients. */
export const framingCases: Case[] = [
  // HTTP framing
  {
    name: "duplicate ce-id headers",
    send: () => rawRequest(port, { headers: [...ceHeaders(), ["ce-id", "second"]] }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "two Content-Types that disagree on the mode",
    send: () =>
      rawRequest(port, {
        headers: [
          ...ceHeaders(),
          ["Content-Type", "application/json"],
          ["Content-Type", "application/cloudevents+json"],
        ],
        body: JSON.stringify(structuredEvent({ subject: "smuggled" })),
      }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "gzip hidden behind a later Content-Encoding: identity",
    send: () =>
      rawRequest(port, {
        headers: [
          ...ceHeaders({ "ce-type": "com.example.echo.say" }),
          ["Content-Type", "application/octet-stream"],
          ["Content-Encoding", "gzip"],
          ["Content-Encoding", "identity"],
        ],
        body: gzipBomb,
      }),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "Content-Length shorter than the body (the rest is a garbage second request)",
    send: () =>
      rawRequest(port, {
        headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Length", "5"]],
        body: '{"by": 1000}',
      }),
    status: 400,
    transport: true,
  },
  {
    name: "Content-Length longer than the body",
    send: () =>
      rawRequest(
        port,
        {
          headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Length", "100"]],
          body: '{"by": 1000}',
        },
        { endAfterWrite: true },
      ),
    status: 400,
    transport: true,
  },
  {
    name: "Content-Length longer than the body, connection left open",
    send: () =>
      rawRequest(
        port,
        {
          headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Length", "100"]],
          body: '{"by": 1000}',
        },
        { timeoutMs: REQUEST_TIMEOUT_MS + 3000 },
      ),
    status: 408,
    transport: true,
    withinMs: REQUEST_TIMEOUT_MS + 2000,
  },
  {
    name: "both Content-Length and Transfer-Encoding (request smuggling)",
    send: () =>
      rawRequest(port, {
        headers: [...ceHeaders(), ["Content-Length", "4"], ["Transfer-Encoding", "chunked"]],
        body: "0\r\n\r\n",
      }),
    status: 400,
    transport: true,
  },
  {
    name: "a client that sends its headers too slowly",
    send: () =>
      rawExchange(
        port,
        Array.from({ length: 40 }, (_, i) => ({
          data: i === 0 ? "POST / HTTP/1.1\r\nHost: x\r\n" : `x-slow-${i}: 1\r\n`,
          delayMs: i === 0 ? 0 : 100,
        })),
        { timeoutMs: REQUEST_TIMEOUT_MS + 3000 },
      ),
    status: 408,
    transport: true,
    withinMs: REQUEST_TIMEOUT_MS + 2000,
  },
];
