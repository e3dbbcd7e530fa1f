import { rawExchange, rawRequest } from "../support/raw-http.js";
import {
  BODY_LIMIT,
  binary,
  invalidData,
  invalidEvent,
  invalidJson,
  port,
  structured,
  structuredEvent,
  VICTIM,
  type Case,
} from "./hostile-input-host.js";

/** Hostile command data, prototype pollution, names that exist on every object, unknown paths and bad batches. */
export const nameCases: Case[] = [
  // command data
  {
    name: "huge number 1e400",
    send: () => binary({}, '{"by": 1e400}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "integer beyond 2^53 (9007199254740993)",
    send: () => binary({}, '{"by": 9007199254740993}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "non-integer by",
    send: () => binary({}, '{"by": 1.5}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "by as a string",
    send: () => binary({}, '{"by": "1"}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  // prototype pollution
  {
    name: "__proto__ in the command data",
    send: () => binary({}, '{"by": 1, "__proto__": {"polluted": true}}', "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "escaped __proto__ key in the command data",
    send: () => binary({}, '{"by": 1, "\\u005f_proto__": {"polluted": true}}', "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "__proto__ in the event",
    send: () =>
      structured(
        `{"specversion":"1.0","id":"p","source":"/h","type":"com.example.counter.increment","subject":"${VICTIM}","__proto__":{"polluted":true}}`,
      ),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "constructor.prototype in the command data",
    send: () => binary({}, '{"by": 1, "constructor": {"prototype": {"polluted": true}}}', "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "constructor in a cart item",
    send: () =>
      binary(
        { "ce-type": "com.example.cart.addItem" },
        '{"sku":"a","name":"A","quantity":1,"constructor":{"prototype":{"polluted":true}}}',
        "application/json",
      ),
    status: 400,
    problem: invalidData,
  },
  {
    name: "__proto__ through the HTTP API",
    send: () =>
      rawRequest(port, {
        path: `/counter/${VICTIM}/increment`,
        headers: [["Content-Type", "application/json"]],
        body: '{"__proto__": {"polluted": true}}',
      }),
    status: 400,
    problem: invalidJson,
  },
  // names that exist on every object
  {
    name: "a command named constructor",
    send: () => binary({ "ce-type": "com.example.counter.constructor" }),
    status: 400,
    problem: "/problems/unknown-type",
  },
  {
    name: "a command named __proto__",
    send: () => binary({ "ce-type": "com.example.counter.__proto__" }),
    status: 400,
    problem: "/problems/unknown-type",
  },
  {
    name: "a command named toString through the HTTP API",
    send: () => rawRequest(port, { path: `/counter/${VICTIM}/toString` }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "an action handler named constructor",
    send: () => rawRequest(port, { path: "/echo/constructor" }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "an entity named __proto__",
    send: () => rawRequest(port, { method: "GET", path: "/__proto__/x" }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "Expect: 100-continue with a body over the limit",
    send: () =>
      rawExchange(
        port,
        `POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT + 1}\r\n\r\n`,
      ),
    status: 413,
    problem: "/problems/payload-too-large",
  },
  // paths
  {
    name: "/metrics on the public port",
    send: () => rawRequest(port, { method: "GET", path: "/metrics" }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "unknown path of the HTTP API",
    send: () =>
      rawRequest(port, {
        path: "/nothing/here/at-all",
        headers: [["Content-Type", "application/json"]],
        body: "{}",
      }),
    status: 404,
    problem: "/problems/not-found",
  },
  {
    name: "malformed percent-encoding in a path",
    send: () => rawRequest(port, { method: "GET", path: "/counter/%E0%A4%A" }),
    status: 400,
  },
  // batches
  {
    name: "batch that is not an array",
    send: () => structured("{}", "application/cloudevents-batch+json"),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "batch over 1,000 events",
    send: () =>
      structured(
        JSON.stringify(Array.from({ length: 1001 }, (_, i) => structuredEvent({ id: `b${i}` }))),
        "application/cloudevents-batch+json",
      ),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "batch with one invalid event applies none",
    send: () =>
      structured(
        JSON.stringify([structuredEvent(), structuredEvent({ source: undefined })]),
        "application/cloudevents-batch+json",
      ),
    status: 400,
    problem: invalidEvent,
  },
];
