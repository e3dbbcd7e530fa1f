import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/host.js";
import { validators } from "../support/knative-schemas.js";
import { kustomize, kustomizeAvailable } from "../support/kubectl.js";

/**
 * Every kustomization under knative/ built by the real `kubectl kustomize` — what
 * `kubectl apply -k` does first — and its output checked against the Knative CRD schemas.
 */

type Json = Record<string, unknown> & { kind: string; apiVersion: string; metadata: Json };

function kustomizations(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return kustomizations(path);
    return entry === "kustomization.yaml" ? [dirname(path)] : [];
  });
}

function build(dir: string): Json[] {
  return parseAllDocuments(kustomize(dir)).map((d) => d.toJSON() as Json);
}

const KNATIVE = join(ROOT, "knative");
const dirs = kustomizations(KNATIVE);
const available = kustomizeAvailable("the kustomize builds of knative/");

describe.skipIf(!available)("kubectl kustomize", () => {
  it("finds the base, the example overlay and the sender-identity overlay", () => {
    expect(dirs.map((d) => relative(ROOT, d)).sort()).toEqual([
      "knative/base",
      "knative/overlays/example",
      "knative/overlays/oidc",
    ]);
  });

  it.each(dirs.map((d) => [relative(ROOT, d), d]))(
    "%s builds, and its Knative objects validate against the CRD schemas",
    (_name, dir) => {
      const objects = build(dir);
      const byKind = validators();
      const kinds = new Map<string, number>();
      for (const object of objects) {
        const key = `${object.apiVersion} ${object.kind}`;
        kinds.set(object.kind, (kinds.get(object.kind) ?? 0) + 1);
        const validate = byKind.get(key);
        if (validate) {
          expect(
            validate(object),
            `${key} ${String(object.metadata.name)}: ${JSON.stringify(validate.errors)}`,
          ).toBe(true);
        }
      }
      expect(kinds.get("Service")).toBeGreaterThanOrEqual(5); // 4 Knative, 1 core (Redis)
      expect(kinds.get("Trigger")).toBe(3);
    },
  );

  it("the example overlay puts everything in its namespace, with its image, Secret and scale", () => {
    const objects = build(join(KNATIVE, "overlays", "example"));
    for (const o of objects.filter((o) => o.kind !== "Namespace")) {
      expect(o.metadata.namespace, `${o.kind}/${String(o.metadata.name)}`).toBe("knstate-demo");
    }
    const text = JSON.stringify(objects);
    expect(text).toContain('"image":"registry.example.com/acme/knstate:0.1.0"');
    expect(text).not.toContain("dev.local/knstate");
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === "knstate-redis")!;
    expect(Buffer.from((secret.data as { url: string }).url, "base64").toString()).toBe(
      "redis://:replace-with-a-long-random-password@redis:6379",
    );
    const counter = objects.find((o) => o.kind === "Service" && o.metadata.name === "counter")!;
    expect(
      (counter.spec as { template: { metadata: { annotations: Json } } }).template.metadata.annotations,
    ).toMatchObject({
      "autoscaling.knative.dev/min-scale": "1",
      "autoscaling.knative.dev/max-scale": "20",
    });
  });

  it("has no kustomization whose resources include a folder that contains it (kustomize's cycle)", () => {
    const cycles: string[] = [];
    for (const dir of dirs) {
      const doc = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as { resources?: string[] };
      for (const resource of doc.resources ?? []) {
        const target = resolve(dir, resource);
        if (target !== dir && !relative(target, dir).startsWith("..") && statSync(target).isDirectory()) {
          cycles.push(`${relative(ROOT, dir)} includes ${resource}`);
        }
      }
    }
    expect(dirs.length).toBeGreaterThan(1);
    expect(cycles).toEqual([]);
  });
});
