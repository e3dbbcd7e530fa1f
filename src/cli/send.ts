import { randomUUID } from "node:crypto";
import { request as httpRequest, STATUS_CODES, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { Command, Option } from "commander";
import { toBinary, toStructured } from "../cloudevents/reply.js";
import type { CommandHost } from "./command-host.js";

/** `knstate send <url> --type T ...` */
export function sendCommand(host: CommandHost): Command {
  return new Command("send")
    .summary("send one CloudEvent and print the reply")
    .description(
      "Send one CloudEvent and print the answer: the status, the reply's CloudEvent attributes and its data.\n" +
        "Exit code 0 for a 2xx answer, 1 for any other answer or when the URL cannot be reached.",
    )
    .argument("<url>", "where to POST the event, e.g. http://localhost:8080/")
    .requiredOption("-t, --type <type>", "CloudEvent type, e.g. com.example.counter.increment")
    .option("-s, --subject <subject>", "CloudEvent subject: the entity id")
    .option("-d, --data <json>", "event data, JSON")
    .option("--source <uri>", "CloudEvent source", "/knstate/cli")
    .option("--id <id>", "CloudEvent id (default: a random UUID; the same id twice is a redelivery)")
    .addOption(
      new Option("-m, --mode <mode>", "content mode").choices(["binary", "structured"]).default("binary"),
    )
    .action(
      (
        url: string,
        o: {
          type: string;
          subject?: string;
          data?: string;
          source: string;
          id?: string;
          mode: "binary" | "structured";
        },
      ) =>
        host.run(() =>
          send({
            url,
            type: o.type,
            subject: o.subject,
            data: o.data,
            source: o.source,
            id: o.id,
            mode: o.mode,
            out: host.out,
            err: host.err,
          }),
        ),
    );
}

export interface SendOptions {
  readonly url: string;
  readonly type: string;
  readonly subject?: string | undefined;
  readonly data?: string | undefined;
  readonly source?: string | undefined;
  readonly id?: string | undefined;
  readonly mode: "binary" | "structured";
  readonly out: (line: string) => void;
  /** Where errors go (stderr); `out` when absent. */
  readonly err?: (line: string) => void;
}

/**
 * `knstate send`: posts one CloudEvent and prints the answer: the status, the reply's
 * CloudEvent attributes and its data (or the problem). Resolves with an exit code: 0 for 2xx,
 * 1 for another answer or none, 2 for bad arguments. Errors are one line, never a stack trace.
 */
export async function send(options: SendOptions): Promise<number> {
  const err = (line: string) => (options.err ?? options.out)(`knstate send: ${line}`);
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    err(`${options.url} is not an http:// or https:// URL`);
    return 2;
  }
  let data: unknown;
  if (options.data !== undefined) {
    try {
      data = JSON.parse(options.data);
    } catch {
      err(`--data is not JSON: ${options.data}`);
      return 2;
    }
  }
  const event = {
    id: options.id ?? randomUUID(),
    source: options.source ?? "/knstate/cli",
    type: options.type,
    subject: options.subject,
    time: new Date().toISOString(),
    extensions: {},
    data,
  };
  let headers: Record<string, string>;
  let body: string;
  if (options.mode === "structured") {
    headers = { "content-type": "application/cloudevents+json" };
    body = JSON.stringify(toStructured(event));
  } else {
    ({ headers, body } = toBinary(event));
  }
  let answer: Answer;
  try {
    answer = await post(url, headers, body);
  } catch (error) {
    err(`cannot connect to ${url.href}: ${networkReason(error)}`);
    return 1;
  }
  options.out(`${answer.status} ${answer.statusText}`);
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name.startsWith("ce-")) options.out(`${name}: ${String(value)}`);
  }
  const text = answer.body;
  if (text.length > 0) options.out(text);
  return answer.status >= 200 && answer.status < 300 ? 0 : 1;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "the connection closed before an answer",
  UND_ERR_CONNECT_TIMEOUT: "connect timed out",
};

interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** node:http rather than fetch: fetch refuses some ports outright and hides the reason of a failure. */
function post(url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? STATUS_CODES[res.statusCode ?? 0] ?? "",
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A network error's code as words (a connection to localhost may be an AggregateError of attempts). */
function networkReason(error: unknown): string {
  let cause = error;
  const nested = (cause as { errors?: unknown[] }).errors;
  if (Array.isArray(nested) && nested.length > 0) cause = nested[0];
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string") return REASONS[code] ?? code;
  return (cause as { message?: string }).message ?? String(cause);
}
