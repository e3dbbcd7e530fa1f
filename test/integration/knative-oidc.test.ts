import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { deployCommand } from "../../src/cli/deploy-argv.js";
import { manifestsForFunction } from "../../src/deploy/function-service.js";
import { DEFAULT_IMAGE } from "../../src/deploy/service.js";
import { ROOT } from "../support/host.js";
import { validators } from "../support/knative-schemas.js";
import { kustomize, kustomizeAvailable } from "../support/kubectl.js";

type Json = Record<string, unknown>;
const COUNTER = join(ROOT, "functions", "counter");

/** The container env of a Knative Service, as name → value. */
function envOf(service: Json): Record<string, string | undefined> {
  const spec = service.spec as { template: { spec: { containers: Array<{ env: Json[] }> } } };
  return Object.fromEntries(
    spec.template.spec.containers[0]!.env.map((e) => [e.name as string, e.value as string | undefined]),
  );
}

function validate(object: Json): void {
  const key = `${String(object.apiVersion)} ${String(object.kind)}`;
  const check = validators().get(key);
  expect(check, key).toBeDefined();
  expect(check!(object), `${key}: ${JSON.stringify(check!.errors)}`).toBe(true);
}

describe("manifests for Knative Eventing's sender identity (authentication-oidc)", () => {
  it("give the Trigger's subscriber the Service's audience and the Service the matching settings", async () => {
    const { service, trigger } = await manifestsForFunction(COUNTER, {
      image: DEFAULT_IMAGE,
      namespace: "shop",
      eventsAuth: "oidc",
    });
    const audience = "serving.knative.dev/service/shop/counter";
    expect(trigger!.spec.subscriber).toEqual({
      ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "counter" },
      audience,
    });
    expect(envOf(service as unknown as Json)).toMatchObject({
      KNSTATE_EVENTS_AUTH: "oidc",
      KNSTATE_OIDC_AUDIENCE: audience,
    });
    validate(trigger as unknown as Json);
    validate(service as unknown as Json);
  });

  it("take an audience given, and leave both out by default", async () => {
    const given = await manifestsForFunction(COUNTER, {
      image: DEFAULT_IMAGE,
      oidcAudience: "counter-aud",
      eventsAuth: "oidc",
    });
    expect(given.trigger!.spec.subscriber).toMatchObject({ audience: "counter-aud" });
    expect(envOf(given.service as unknown as Json)["KNSTATE_OIDC_AUDIENCE"]).toBe("counter-aud");
    const plain = await manifestsForFunction(COUNTER, { image: DEFAULT_IMAGE });
    expect(plain.trigger!.spec.subscriber).not.toHaveProperty("audience");
    expect(envOf(plain.service as unknown as Json)).not.toHaveProperty("KNSTATE_EVENTS_AUTH");
  });

  it("are printed by knstate manifest --events-auth oidc, which refuses other modes", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await deployCommand(
      "manifest",
      [COUNTER, "--events-auth", "oidc", "-n", "shop"],
      {},
      (l) => out.push(l),
      (l) => err.push(l),
    );
    expect(code).toBe(0);
    const objects = parseAllDocuments(out.join("\n")).map((d) => d.toJSON() as Json);
    const trigger = objects.find((o) => o.kind === "Trigger")!;
    expect((trigger.spec as { subscriber: Json }).subscriber.audience).toBe(
      "serving.knative.dev/service/shop/counter",
    );
    expect(out.join("\n")).toContain("--events-auth oidc");
    const bad = await deployCommand(
      "manifest",
      [COUNTER, "--events-auth", "jwt"],
      {},
      () => undefined,
      (l) => err.push(l),
    );
    expect(bad).not.toBe(0);
    expect(err.join("\n")).toContain("--events-auth must be off or oidc");
  });
});

describe.skipIf(!kustomizeAvailable("the sender-identity overlay's build"))("knative/overlays/oidc", () => {
  it("sets every Trigger's subscriber audience to what its Service verifies", () => {
    const objects = parseAllDocuments(kustomize(join(ROOT, "knative", "overlays", "oidc"))).map(
      (d) => d.toJSON() as Json,
    );
    const triggers = objects.filter((o) => o.kind === "Trigger");
    expect(triggers).toHaveLength(3);
    for (const trigger of triggers) {
      const subscriber = (trigger.spec as { subscriber: { audience?: string; ref: { name: string } } })
        .subscriber;
      const service = objects.find(
        (o) =>
          o.kind === "Service" &&
          o.apiVersion === "serving.knative.dev/v1" &&
          (o.metadata as Json).name === subscriber.ref.name,
      )!;
      expect(subscriber.audience).toBe(`serving.knative.dev/service/knstate-demo/${subscriber.ref.name}`);
      expect(envOf(service)).toMatchObject({
        KNSTATE_EVENTS_AUTH: "oidc",
        KNSTATE_OIDC_AUDIENCE: subscriber.audience,
      });
      validate(trigger);
      validate(service);
    }
  });
});
