// Functional checks run before anything is measured: every contender must answer the exact
// request shape correctly, or the run stops.
import { randomUUID } from "node:crypto";
import { httpRequest } from "./proc.mjs";

export const ECHO_BODY = '{"orderId":"o-12345","amount":42.5,"items":["a","b","c"],"note":"hello"}';

function ceHeaders(type, extra = {}) {
  return {
    "content-type": "application/json",
    "ce-id": randomUUID(),
    "ce-source": "/bench/check",
    "ce-type": type,
    "ce-specversion": "1.0",
    ...extra,
  };
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** A binary-mode CloudEvent echo: 200, ce- reply headers, the same JSON back. */
export async function checkEcho(port, type) {
  const res = await httpRequest({
    port,
    method: "POST",
    path: "/",
    headers: ceHeaders(type),
    body: ECHO_BODY,
  });
  expect(res.status === 200, `echo on :${port} answered ${res.status}: ${res.body}`);
  expect(
    res.headers["ce-specversion"] === "1.0" && res.headers["ce-id"] && res.headers["ce-type"],
    `echo on :${port} did not reply with a binary-mode CloudEvent`,
  );
  expect(JSON.stringify(JSON.parse(res.body)) === ECHO_BODY, `echo on :${port} replied ${res.body}`);
}

async function counterCall(port, via, id, by) {
  if (via === "ce") {
    const body = JSON.stringify({ by });
    return httpRequest({
      port,
      method: "POST",
      path: "/",
      headers: ceHeaders("com.example.counter.increment", { "ce-subject": id }),
      body,
    });
  }
  if (via === "http") {
    return httpRequest({
      port,
      method: "POST",
      path: `/counter/${id}/increment`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ by }),
    });
  }
  return httpRequest({
    port,
    method: "POST",
    path: `/counter/${id}/add`,
    headers: { "content-type": "application/json" },
    body: String(by),
  });
}

function valueOf(via, body) {
  const parsed = JSON.parse(body);
  return via === "restate" ? parsed : parsed.value;
}

/** Two calls on a fresh id answer 1 and then 3. `via`: ce | http | restate. */
export async function checkCounter(port, via) {
  const id = `check-${randomUUID()}`;
  const a = await counterCall(port, via, id, 1);
  expect(a.status === 200, `counter (${via}) on :${port} answered ${a.status}: ${a.body}`);
  const b = await counterCall(port, via, id, 2);
  expect(b.status === 200, `counter (${via}) on :${port} answered ${b.status}: ${b.body}`);
  const [x, y] = [valueOf(via, a.body), valueOf(via, b.body)];
  expect(x === 1 && y === 3, `counter (${via}) on :${port} answered ${x} then ${y}, expected 1 then 3`);
}
