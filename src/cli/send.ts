import { randomUUID } from "node:crypto";
import { toBinary, toStructured } from "../cloudevents/reply.js";

export interface SendOptions {
  readonly url: string;
  readonly type: string;
  readonly subject?: string | undefined;
  readonly data?: string | undefined;
  readonly source?: string | undefined;
  readonly id?: string | undefined;
  readonly mode: "binary" | "structured";
  readonly out: (line: string) => void;
}

/**
 * `knstate send`: posts one CloudEvent and prints the answer: the status, the reply's
 * CloudEvent attributes and its data (or the problem). Resolves with an exit code: 0 for 2xx.
 */
export async function send(options: SendOptions): Promise<number> {
  let data: unknown;
  if (options.data !== undefined) {
    try {
      data = JSON.parse(options.data);
    } catch {
      options.out(`--data is not JSON: ${options.data}`);
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
  const response = await fetch(options.url, { method: "POST", headers, body });
  options.out(`${response.status} ${response.statusText}`);
  response.headers.forEach((value, name) => {
    if (name.startsWith("ce-")) options.out(`${name}: ${value}`);
  });
  const text = await response.text();
  if (text.length > 0) options.out(text);
  return response.ok ? 0 : 1;
}
