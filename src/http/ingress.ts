import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { IncomingEvent } from "../cloudevents/event.js";
import { parseMessage } from "../cloudevents/parse.js";
import { toBinary, toStructured, type OutgoingEvent } from "../cloudevents/reply.js";
import { HostError, toHostError } from "../errors/host-error.js";
import type { CloudEventCommands } from "./cloudevent-commands.js";
import type { Logger } from "../observability/logger.js";
import { eventTrace } from "../observability/tracing.js";
import { readBody } from "./body.js";
import type { EdgeAuth, Verified } from "./edge-auth.js";
import { logFailure, sendProblem } from "./problem.js";

export interface IngressOptions {
  readonly commands: CloudEventCommands;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  readonly auth: EdgeAuth;
}

/** Statuses Knative Eventing retries (the rest of the 4xx go to the dead-letter sink). */
export function isRetryable(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}

/**
 * The CloudEvents ingress for `POST /`: a lean `node:http` handler (no framework on the hot
 * path) that reads binary, structured and batch messages, validates them strictly, runs them
 * and answers with a binary-mode reply event, 202 when there is nothing to reply, or a problem.
 */
export function createIngress(
  options: IngressOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { commands, bodyLimitBytes, logger, auth } = options;

  const fail = (res: ServerResponse, error: unknown, event?: IncomingEvent) => {
    const hostError = toHostError(error);
    logFailure(logger, hostError, eventFields(event), eventTrace(event));
    sendProblem(res, hostError);
  };

  return async (req, res) => {
    let message;
    let verified: Verified;
    try {
      // The sender is verified before the body is read.
      verified = await auth.verify("events", req.headers);
      message = parseMessage(req.rawHeaders, await readBody(req, bodyLimitBytes));
    } catch (error) {
      fail(res, error);
      return;
    }
    if (message.mode === "batch") {
      await answerBatch(res, message.events, req.headers, commands, logger, verified);
      return;
    }
    const event = message.events[0]!;
    try {
      const reply = await commands.handle(event, req.headers, verified);
      if (reply === undefined) {
        res.writeHead(202, { "content-length": 0 });
        res.end();
        return;
      }
      const { headers, body } = toBinary(reply);
      headers["content-length"] = String(Buffer.byteLength(body));
      res.writeHead(200, headers);
      res.end(body);
    } catch (error) {
      fail(res, error, event);
    }
  };
}

/**
 * A batch is validated whole before anything runs (one invalid event: 400, nothing applied).
 * Then every event runs, in order per entity. All succeeded: 200 with a batch of replies
 * (202 when none has a reply). Otherwise the answer is a problem listing each failed index: a
 * retryable status if any failure is retryable, so the broker redelivers the batch (the events
 * that succeeded are deduplicated), else the first failure's status.
 */
async function answerBatch(
  res: ServerResponse,
  events: readonly IncomingEvent[],
  transport: IncomingHttpHeaders,
  commands: CloudEventCommands,
  logger: Logger,
  verified: Verified,
): Promise<void> {
  const results = await Promise.allSettled(
    events.map((event) => commands.handle(event, transport, verified)),
  );
  const replies: OutgoingEvent[] = [];
  const errors: Array<{ index: number; status: number; type: string; detail: string }> = [];
  let retryable: HostError | undefined;
  let first: HostError | undefined;
  results.forEach((result, index) => {
    if (result.status === "fulfilled") {
      if (result.value !== undefined) replies.push(result.value);
      return;
    }
    const error = toHostError(result.reason);
    logFailure(logger, error, eventFields(events[index]), eventTrace(events[index]));
    errors.push({ index, status: error.status, type: error.problem.type, detail: error.detail });
    first ??= error;
    if (isRetryable(error.status)) retryable ??= error;
  });
  const failure = retryable ?? first;
  if (failure !== undefined) {
    sendProblem(
      res,
      new HostError(failure.problem, `${errors.length} of ${events.length} events in the batch failed`, {
        extensions: { errors },
        ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
      }),
    );
    return;
  }
  if (replies.length === 0) {
    res.writeHead(202, { "content-length": 0 });
    res.end();
    return;
  }
  const body = JSON.stringify(replies.map(toStructured));
  res.writeHead(200, {
    "content-type": "application/cloudevents-batch+json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function eventFields(event: IncomingEvent | undefined) {
  return event === undefined ? {} : { ceId: event.id, ceType: event.type, ceSource: event.source };
}
