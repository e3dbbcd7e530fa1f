import { rawExchange, rawRequest } from "../support/raw-http.js";
import {
  BODY_LIMIT,
  binary,
  ceHeaders,
  gzipBomb,
  invalidEvent,
  port,
  structured,
  structuredEvent,
  type Case,
} from "./hostile-input-host.js";

/** Hostile bodies and strings: over the size limit, in media types or encodings the host does not take, and invalid UTF-8 or control characters. */
export const bodyCases: Case[] = [
  // size
  {
    name: "Content-Length over the body limit",
    send: () =>
      rawExchange(
        port,
        `POST / HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT * 2}\r\n\r\n{"by":`,
      ),
    status: 413,
    problem: "/problems/payload-too-large",
  },
  {
    name: "chunked body growing over the limit",
    send: () => {
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const framed = Buffer.concat([
        Buffer.from(`${chunk.length.toString(16)}\r\n`),
        chunk,
        Buffer.from("\r\n"),
      ]);
      return rawExchange(port, [
        {
          data: `POST / HTTP/1.1\r\nHost: x\r\n${ceHeaders()
            .map(([n, v]) => `${n}: ${v}\r\n`)
            .join("")}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        },
        ...Array.from({ length: 6 }, () => ({ data: framed, delayMs: 5 })),
      ]);
    },
    status: 413,
    problem: "/problems/payload-too-large",
  },
  // media types and encodings
  {
    name: "structured mode in a format other than JSON",
    send: () => structured("<event/>", "application/cloudevents+xml"),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "structured JSON in latin-1",
    send: () => structured(structuredEvent(), "application/cloudevents+json; charset=ISO-8859-1"),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "command data that is not JSON",
    send: () => binary({}, "by=1", "text/plain"),
    status: 415,
    problem: "/problems/unsupported-media-type",
  },
  {
    name: "a gzip bomb",
    send: () =>
      rawRequest(port, {
        headers: [...ceHeaders(), ["Content-Type", "application/json"], ["Content-Encoding", "gzip"]],
        body: gzipBomb,
      }),
    status: 415,
    problem: "/problems/unsupported-media-type",
    withinMs: 1000,
  },
  {
    name: "a media type that is not one",
    send: () => binary({}, '{"by":1}', "json please"),
    status: 400,
    problem: invalidEvent,
  },
  // strings
  {
    name: "invalid UTF-8 bytes in a header",
    send: () =>
      rawExchange(
        port,
        Buffer.concat([
          Buffer.from(
            `POST / HTTP/1.1\r\nHost: x\r\n${ceHeaders({ "ce-subject": undefined })
              .map(([n, v]) => `${n}: ${v}\r\n`)
              .join("")}ce-subject: a`,
          ),
          Buffer.from([0xc0, 0xa0]),
          Buffer.from("b\r\nContent-Length: 0\r\n\r\n"),
        ]),
      ),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "percent-encoded invalid UTF-8 in a header",
    send: () => binary({ "ce-subject": "a%C0%A0b" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "percent-encoded lone surrogate in a header",
    send: () => binary({ "ce-subject": "a%ED%A0%80b" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "percent-encoded control character in a header",
    send: () => binary({ "ce-subject": "a%01b" }),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "raw control character in a header",
    send: () => binary({ "ce-subject": "a\u0001b" }),
    status: 400,
    transport: true,
  },
  {
    name: "lone surrogate in a structured attribute",
    send: () =>
      structured(
        '{"specversion":"1.0","id":"x","source":"/h","type":"com.example.counter.get","subject":"a\\ud800b"}',
      ),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "control character in a structured attribute",
    send: () => structured(structuredEvent({ subject: "a\u0007b" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "NUL in a structured id",
    send: () => structured(structuredEvent({ id: "a\u0000b" })),
    status: 400,
    problem: invalidEvent,
  },
  {
    name: "C1 control in an extension",
    send: () => structured(structuredEvent({ note: "a\u0085b" })),
    status: 400,
    problem: invalidEvent,
  },
];
