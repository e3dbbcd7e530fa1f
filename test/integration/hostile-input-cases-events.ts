import { rawRequest } from "../support/raw-http.js";
import {
  binary,
  deep,
  invalidData,
  invalidEvent,
  invalidJson,
  manyKeys,
  port,
  structured,
  structuredEvent,
  type Case,
} from "./hostile-input-host.js";

/** Hostile events: JSON that does not parse or nests too deep, and a wrong or missing specversion or required attribute. */
export const eventCases: Case[] = [
  // JSON
  {
    name: "bad JSON (structured)",
    send: () => structured('{"specversion": "1.0", id}'),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "truncated JSON data (binary)",
    send: () => binary({}, '{"by": ', "application/json"),
    status: 400,
    problem: invalidJson,
  },
  { name: "empty structured body", send: () => structured(""), status: 400, problem: invalidJson },
  {
    name: "structured body that is an array",
    send: () => structured("[]"),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "100,000 levels of nesting (structured)",
    send: () => structured(deep(100_000)),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "100,000 levels of nesting as command data",
    send: () => binary({}, `{"by": ${deep(100_000)}}`, "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "100,000 levels of nesting echoed by an action",
    send: () => binary({ "ce-type": "com.example.echo.say" }, deep(100_000), "application/json"),
    status: 400,
    problem: invalidJson,
  },
  {
    name: "100,000 keys in the event",
    send: () => structured(`${manyKeys(100_000).slice(0, -1)},"specversion":"1.0"}`),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "100,000 keys in the command data",
    send: () => binary({}, manyKeys(100_000), "application/json"),
    status: 400,
    problem: invalidData,
  },
  {
    name: "body that is not UTF-8 (binary JSON data)",
    send: () => binary({}, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "application/json"),
    status: 400,
    problem: invalidJson,
  },
  // specversion
  {
    name: "wrong specversion (binary)",
    send: () => binary({ "ce-specversion": "0.3" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing specversion (binary)",
    send: () => binary({ "ce-specversion": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "empty specversion (binary)",
    send: () => binary({ "ce-specversion": "" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "wrong specversion (structured)",
    send: () => structured(structuredEvent({ specversion: "2.0" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "numeric specversion (structured)",
    send: () => structured(structuredEvent({ specversion: 1 })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing specversion (structured)",
    send: () => structured(structuredEvent({ specversion: undefined })),
    status: 400,
    problem: invalidEvent,
  },
  // required attributes
  {
    name: "missing id (binary)",
    send: () => binary({ "ce-id": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing source (binary)",
    send: () => binary({ "ce-source": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing type (binary)",
    send: () => binary({ "ce-type": undefined }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing id (structured)",
    send: () => structured(structuredEvent({ id: undefined })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "numeric id (structured)",
    send: () => structured(structuredEvent({ id: 42 })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "missing subject on a command",
    send: () => binary({ "ce-subject": undefined }),
    status: 400,
    problem: "/problems/missing-subject",
  },
  {
    name: "empty subject header",
    send: () => binary({ "ce-subject": "" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "no CloudEvent at all",
    send: () => rawRequest(port, { body: "" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "unknown type",
    send: () => binary({ "ce-type": "com.example.counter.explode" }),
    status: 400,
    problem: "/problems/unknown-type",
  },
  {
    name: "50,000-character type (structured)",
    send: () => structured(structuredEvent({ type: `com.${"a.".repeat(25_000)}x` })),
    status: 400,
    problem: "/problems/unknown-type",
    withinMs: 500,
  },
  {
    name: "50,000-character source full of near-URI characters",
    send: () => structured(structuredEvent({ source: `${"%a".repeat(25_000)} ` })),
    status: 400,
    problem: invalidEvent,
    withinMs: 500,
  },
  {
    name: "50,000-character datacontenttype built to backtrack",
    send: () =>
      structured(
        structuredEvent({
          datacontenttype: `application/${"a+".repeat(25_000)}json; charset=${";".repeat(100)}`,
        }),
      ),
    status: 400,
    problem: invalidEvent,
    withinMs: 500,
  },
  {
    name: "50,000-character type header (over Node's header size limit)",
    send: () => binary({ "ce-type": "a".repeat(50_000) }),
    status: 431,
    transport: true,
    withinMs: 500,
  },
];
