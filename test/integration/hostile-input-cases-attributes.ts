import { binary, invalidEvent, structured, structuredEvent, type Case } from "./hostile-input-host.js";

/** Hostile attribute values: times, URIs, extension names and values the CloudEvents spec does not allow. */
export const attributeCases: Case[] = [
  // attribute formats
  {
    name: "invalid time (structured)",
    send: () => structured(structuredEvent({ time: "yesterday" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "out-of-range time (binary)",
    send: () => binary({ "ce-time": "2024-02-30T10:00:00Z" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "relative dataschema",
    send: () => structured(structuredEvent({ dataschema: "/schemas/x" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "dataschema with spaces (binary)",
    send: () => binary({ "ce-dataschema": "https://x/a%20b c" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "source that is not a URI-reference",
    send: () => binary({ "ce-source": "a%20b%zz" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "upper-case extension name",
    send: () => structured(structuredEvent({ MyExt: "x" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "punctuated extension name",
    send: () => structured(structuredEvent({ "my.ext": "x" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "punctuated extension header",
    send: () => binary({ "ce-my_ext": "x" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "non-integer extension value",
    send: () => structured(structuredEvent({ weight: 1.5 })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "object extension value",
    send: () => structured(structuredEvent({ meta: { a: 1 } })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "ce-datacontenttype header in binary mode",
    send: () => binary({ "ce-datacontenttype": "application/json" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "both data and data_base64",
    send: () => structured(structuredEvent({ data: { by: 1 }, data_base64: "eyJieSI6MX0=" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "data_base64 that is not base64",
    send: () => structured(structuredEvent({ data_base64: "!!!" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "more than 64 attributes",
    send: () => binary(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`ce-x${i}`, "1"]))),
    status: 400,
    problem: invalidEvent,
  },
];
