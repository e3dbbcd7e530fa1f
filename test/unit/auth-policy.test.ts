import { describe, expect, it } from "vitest";
import {
  ANONYMOUS,
  AuthConfigError,
  authorize,
  parsePolicy,
  principalFromClaims,
} from "../../src/auth/index.js";

const policy = parsePolicy(
  JSON.stringify({
    rules: [
      { match: { scope: "cart:write" }, commands: ["cart.*"], read: ["cart"] },
      { match: { role: "operator" }, commands: ["*.*"], read: ["*"], events: ["*"] },
      { match: { subject: "system:serviceaccount:knative-eventing:*", kind: "oidc" }, commands: ["*.*"] },
      { match: { claims: { tenant: ["acme", "globex"] } }, commands: ["counter.get"] },
      { match: { kind: "anonymous" }, read: ["counter"] },
    ],
  }),
);

describe("the authorization policy", () => {
  const writer = principalFromClaims("jwt", { sub: "u1", scope: "cart:write profile" });
  const operator = principalFromClaims("jwt", { sub: "op", realm_access: { roles: ["operator"] } });
  const broker = principalFromClaims("oidc", {
    sub: "system:serviceaccount:knative-eventing:mt-broker-filter-oidc",
  });

  it("grants commands and reads by scope, role, subject, kind and claim", () => {
    expect(
      authorize(policy, writer, { kind: "command", entity: "cart", command: "addItem" }),
    ).toBeUndefined();
    expect(authorize(policy, writer, { kind: "read-state", entity: "cart" })).toBeUndefined();
    expect(authorize(policy, operator, { kind: "read-events", entity: "cart" })).toBeUndefined();
    expect(
      authorize(policy, broker, { kind: "command", entity: "counter", command: "increment" }),
    ).toBeUndefined();
    const acme = principalFromClaims("jwt", { sub: "x", tenant: "acme" });
    expect(authorize(policy, acme, { kind: "command", entity: "counter", command: "get" })).toBeUndefined();
    expect(authorize(policy, ANONYMOUS, { kind: "read-state", entity: "counter" })).toBeUndefined();
  });

  it("refuses with a 403 problem whatever no rule grants", () => {
    expect(
      authorize(policy, writer, { kind: "command", entity: "counter", command: "increment" }),
    ).toMatchObject({
      status: 403,
      problem: {
        type: "/problems/forbidden",
        status: 403,
        detail: "the caller may not run counter.increment",
      },
    });
    expect(authorize(policy, writer, { kind: "read-events", entity: "cart" })?.status).toBe(403);
    const jwtBroker = principalFromClaims("jwt", { sub: broker.subject });
    expect(
      authorize(policy, jwtBroker, { kind: "command", entity: "cart", command: "addItem" })?.status,
    ).toBe(403);
    expect(authorize(policy, ANONYMOUS, { kind: "command", entity: "counter", command: "get" })?.status).toBe(
      403,
    );
  });

  it("allows everything without a policy", () => {
    expect(authorize(undefined, ANONYMOUS, { kind: "read-events", entity: "cart" })).toBeUndefined();
  });

  it("names the rule and field of a mistake", () => {
    expect(() => parsePolicy("{")).toThrow(AuthConfigError);
    expect(() =>
      parsePolicy(JSON.stringify({ rules: [{ match: { scopes: "x" }, commands: ["cart"] }] })),
    ).toThrow(/rules\.0\.match[\s\S]*rules\.0\.commands\.0: a command pattern is entity\.command/);
  });
});
