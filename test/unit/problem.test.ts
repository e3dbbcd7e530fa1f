import { describe, expect, it } from "vitest";
import { CommandRejected, HostError, StoreUnavailable } from "../../src/errors/host-error.js";
import { Problem } from "../../src/errors/problems.js";
import { clientErrorProblem, renderProblem } from "../../src/http/problem.js";

describe("renderProblem", () => {
  it("renders an RFC 9457 body with its content type and exact length", () => {
    const { status, headers, body } = renderProblem(new HostError(Problem.notFound, 'no entity named "é"'));
    expect(status).toBe(404);
    expect(headers["content-type"]).toBe("application/problem+json");
    expect(headers["content-length"]).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toEqual({
      type: "/problems/not-found",
      title: "Not found",
      status: 404,
      detail: 'no entity named "é"',
    });
  });

  it("keeps extensions but never lets them replace the standard members", () => {
    const error = new HostError(Problem.invalidCloudEvent, "2 of 3 failed", {
      extensions: { errors: [{ index: 1 }], status: 200, type: "spoofed" },
    });
    expect(JSON.parse(renderProblem(error).body)).toEqual({
      type: "/problems/invalid-cloudevent",
      title: "Invalid CloudEvent",
      status: 400,
      detail: "2 of 3 failed",
      errors: [{ index: 1 }],
    });
    expect(JSON.parse(renderProblem(new CommandRejected("empty cart", { items: 0 })).body)).toMatchObject({
      status: 422,
      details: { items: 0 },
    });
  });

  it("adds Retry-After to retryable problems and closes the connection on 408 and 413", () => {
    expect(renderProblem(new StoreUnavailable("down", undefined, 2)).headers["retry-after"]).toBe("2");
    expect(renderProblem(new HostError(Problem.payloadTooLarge, "big")).headers.connection).toBe("close");
    expect(renderProblem(new HostError(Problem.requestTimeout, "slow")).headers.connection).toBe("close");
    expect(renderProblem(new HostError(Problem.notFound, "x")).headers.connection).toBeUndefined();
  });

  it("keeps extra headers such as Allow", () => {
    const error = new HostError(Problem.methodNotAllowed, "no");
    expect(renderProblem(error, { allow: "GET, HEAD" }).headers.allow).toBe("GET, HEAD");
  });
});

describe("clientErrorProblem", () => {
  it("maps Node's client errors to the catalogue", () => {
    expect(clientErrorProblem("ERR_HTTP_REQUEST_TIMEOUT")).toBe(Problem.requestTimeout);
    expect(clientErrorProblem("HPE_HEADER_OVERFLOW")).toBe(Problem.headersTooLarge);
    expect(clientErrorProblem("HPE_INVALID_METHOD")).toBe(Problem.invalidRequest);
    expect(clientErrorProblem(undefined)).toBe(Problem.invalidRequest);
  });
});
