import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments, parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkKnativeService, checkSecurityContext } from "../../src/deploy/admission.js";
import { deployCommand } from "../../src/cli/deploy-argv.js";
import { manifestsForFunction } from "../../src/deploy/function-service.js";
import { buildService, DEFAULT_IMAGE } from "../../src/deploy/service.js";
import { ROOT } from "../support/host.js";
import { validators } from "../support/knative-schemas.js";
import { delivers } from "../support/trigger-filter.js";

const KNATIVE = join(ROOT, "knative");

type Json = Record<string, unknown>;
interface Manifest {
  readonly file: string;
  readonly object: Json;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** Every Kubernetes object in knative/ (kustomizations and the kind cluster config aside). */
function manifests(): Manifest[] {
  return yamlFiles(KNATIVE)
    .filter((f) => !f.endsWith("kustomization.yaml") && !f.includes(`${join("knative", "kind")}`))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(file, "utf8")).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
        return { file: relative(ROOT, file), object: doc.toJSON() as Json };
      }),
    )
    .filter((m) => m.object !== null);
}

const all = manifests();
const ksvcs = all.filter(
  (m) => m.object.apiVersion === "serving.knative.dev/v1" && m.object.kind === "Service",
);
const nameOf = (o: Json) => (o.metadata as { name: string }).name;

describe("knative/ manifests", () => {
  it("validate against the Knative CRD schemas", () => {
    const byKind = validators();
    const counts = new Map<string, number>();
    for (const { file, object } of all) {
      const key = `${String(object.apiVersion)} ${String(object.kind)}`;
      const validate = byKind.get(key);
      if (!validate) continue;
      const ok = validate(object);
      expect(ok, `${file} ${nameOf(object)}: ${JSON.stringify(validate.errors, null, 2)}`).toBe(true);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({
      "serving.knative.dev/v1 Service": 4,
      "eventing.knative.dev/v1 Broker": 1,
      "eventing.knative.dev/v1 Trigger": 3,
      "sources.knative.dev/v1 SinkBinding": 1,
    });
  });

  it("the schema check catches a malformed Service", () => {
    const validate = validators().get("serving.knative.dev/v1 Service")!;
    const bad = structuredClone(ksvcs[0]!.object) as { spec: { template: { spec: Json } } };
    bad.spec.template.spec.containerConcurrency = "many";
    expect(validate(bad)).toBe(false);
  });

  it("keep the rules Knative enforces only at admission", () => {
    expect(ksvcs.length).toBeGreaterThan(0);
    for (const { object } of ksvcs) expect(checkKnativeService(object)).toEqual([]);
  });

  it("the admission check catches each violation", () => {
    const counter = buildService({
      name: "counter",
      image: DEFAULT_IMAGE,
      functionPath: "/app/dist/functions/counter",
      stateful: true,
    });
    const broken = structuredClone(counter) as unknown as {
      spec: { template: { metadata: { annotations: Json }; spec: Json & { containers: Json[] } } };
    };
    const c = broken.spec.template.spec.containers[0]!;
    broken.spec.template.spec.timeoutSeconds = 900;
    broken.spec.template.metadata.annotations["autoscaling.knative.dev/max-scale"] = 10;
    (c.ports as Json[]).push({ name: "metrics", containerPort: 9090 });
    (c.env as Json[]).push({ name: "K_SERVICE", value: "x" });
    (c.readinessProbe as Json).timeoutSeconds = 1;
    c.lifecycle = {};
    delete (c.securityContext as Json).readOnlyRootFilesystem;
    const problems = checkKnativeService(broken).join("\n");
    for (const expected of [
      "timeoutSeconds must be 0-600",
      "max-scale must be a string",
      "declares 2 ports",
      "port 9090 is reserved",
      'port name "metrics"',
      "env K_SERVICE is set by Knative",
      "timeoutSeconds is not allowed with periodSeconds 0",
      "lifecycle is not allowed",
      "readOnlyRootFilesystem must be true",
    ]) {
      expect(problems).toContain(expected);
    }
  });

  it("harden every container in every workload", () => {
    let containers = 0;
    for (const { file, object } of all) {
      const spec = ((object.spec as Json | undefined)?.template as Json | undefined)?.spec as
        Json | undefined;
      for (const c of (spec?.containers ?? []) as Json[]) {
        containers++;
        expect(checkSecurityContext(c, `${file} ${String(c.name)}`)).toEqual([]);
      }
    }
    expect(containers).toBe(5); // counter, cart, echo, dead-letters, redis
  });

  it("scrape metrics through pod annotations, never a declared port", () => {
    for (const { object } of ksvcs.filter((m) => nameOf(m.object) !== "dead-letters")) {
      const template = (object.spec as { template: { metadata: { annotations: Json }; spec: Json } })
        .template;
      expect(template.metadata.annotations).toMatchObject({
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9464",
        "autoscaling.knative.dev/min-scale": "0",
      });
      const [container] = template.spec.containers as Json[];
      expect(container!.ports).toEqual([{ name: "http1", containerPort: 8080 }]);
      expect(container!.readinessProbe).toEqual({ httpGet: { path: "/readyz" }, periodSeconds: 0 });
      expect((container!.livenessProbe as Json).httpGet).toEqual({ path: "/livez" });
    }
  });

  it.each(["counter", "cart", "echo"])(
    "knative/base/functions/%s.yaml is byte for byte what the command in its first line prints",
    async (name) => {
      const file = join(KNATIVE, "base", "functions", `${name}.yaml`);
      const shipped = readFileSync(file, "utf8");
      const command = /^# Generated by `knstate manifest ([^`]+)`/.exec(shipped)?.[1];
      expect(command, `${file} starts with the command that made it`).toBeDefined();
      const out: string[] = [];
      const err: string[] = [];
      const code = await deployCommand(
        "manifest",
        command!.split(" "),
        {},
        (l) => out.push(l),
        (l) => err.push(l),
      );
      expect(err).toEqual([]);
      expect(code).toBe(0);
      expect(out.join("\n") + "\n", `regenerate with: knstate ${command} > ${relative(ROOT, file)}`).toBe(
        shipped,
      );
    },
  );

  it("give entities Redis from the Secret and the stateless action none", () => {
    const envOf = (name: string) =>
      (
        (
          ksvcs.find((m) => nameOf(m.object) === name)!.object.spec as {
            template: { spec: { containers: Json[] } };
          }
        ).template.spec.containers[0]!.env as Json[]
      ).reduce<Json>((acc, e) => ({ ...acc, [e.name as string]: e.value ?? e.valueFrom }), {});
    expect(envOf("counter").REDIS_URL).toEqual({ secretKeyRef: { name: "knstate-redis", key: "url" } });
    expect(envOf("cart").KNSTATE_STORE).toBe("redis");
    expect(envOf("echo")).toMatchObject({ KNSTATE_STORE: "memory" });
    expect(envOf("echo").REDIS_URL).toBeUndefined();
    const secret = all.find((m) => m.object.kind === "Secret")!;
    expect(readFileSync(join(ROOT, secret.file), "utf8")).toMatch(/EXAMPLE VALUES: REPLACE/);
    const redisArgs = (
      (
        all.find((m) => m.object.kind === "StatefulSet")!.object.spec as {
          template: { spec: { containers: Json[] } };
        }
      ).template.spec.containers[0]!.args as string[]
    ).join(" ");
    expect(redisArgs).toContain("--appendonly yes");
    expect(redisArgs).toContain("--maxmemory-policy noeviction");
    expect(redisArgs).toContain("--requirepass $(REDIS_PASSWORD)");
  });

  it("route each function's commands to it and not its own replies or published events", async () => {
    const triggers = all.filter((m) => m.object.kind === "Trigger").map((m) => m.object.spec as Json);
    const services = new Set(ksvcs.map((m) => nameOf(m.object)));
    const folders: Record<string, string> = { counter: "counter", cart: "shopping-cart", echo: "echo" };
    for (const spec of triggers) {
      const subscriber = (spec.subscriber as { ref: { name: string } }).ref.name;
      expect(services).toContain(subscriber);
      const { routing } = await manifestsForFunction(join(ROOT, "functions", folders[subscriber]!), {
        image: DEFAULT_IMAGE,
      });
      expect(routing.commandTypes.length).toBeGreaterThan(0);
      const filters = spec.filters as Json[];
      for (const type of routing.commandTypes) {
        expect(delivers(filters, { type, source: "/cli", id: "1" }), type).toBe(true);
      }
      for (const type of [...routing.replyTypes, ...routing.publishedTypes]) {
        expect(delivers(filters, { type, source: `/${subscriber}/${subscriber}`, id: "1" }), type).toBe(
          false,
        );
      }
      expect(filters).toContainEqual({ not: { prefix: { source: `/${subscriber}/` } } });
      expect(spec.delivery).toMatchObject({ retry: 5, backoffPolicy: "exponential" });
      expect(services).toContain(
        (spec.delivery as { deadLetterSink: { ref: { name: string } } }).deadLetterSink.ref.name,
      );
    }
    expect(triggers.map((t) => (t.subscriber as { ref: { name: string } }).ref.name).sort()).toEqual([
      "cart",
      "counter",
      "echo",
    ]);
  });

  it("list every manifest in the kustomization, and the overlay patches what exists", () => {
    const kustomization = parse(readFileSync(join(KNATIVE, "base", "kustomization.yaml"), "utf8")) as {
      resources: string[];
      images: { name: string }[];
    };
    const base = all
      .filter((m) => !m.file.includes("overlays"))
      .map((m) => relative(join("knative", "base"), m.file));
    expect([...new Set(base)].sort()).toEqual([...kustomization.resources].sort());
    for (const r of kustomization.resources) expect(existsSync(join(KNATIVE, "base", r))).toBe(true);
    for (const { object } of ksvcs.filter((m) => nameOf(m.object) !== "dead-letters")) {
      const image = JSON.stringify(object);
      expect(image).toContain(`"image":"${kustomization.images[0]!.name}:`);
    }
    const overlayDir = join(KNATIVE, "overlays", "example");
    const overlay = parse(readFileSync(join(overlayDir, "kustomization.yaml"), "utf8")) as {
      resources: string[];
      secretGenerator: { name: string; behavior: string }[];
      patches: { target: { kind: string; name: string }; patch: string }[];
      images: { name: string }[];
    };
    for (const r of overlay.resources) expect(existsSync(join(overlayDir, r))).toBe(true);
    expect(overlay.images[0]!.name).toBe(kustomization.images[0]!.name);
    const objects = new Set(all.map((m) => `${String(m.object.kind)}/${nameOf(m.object)}`));
    for (const g of overlay.secretGenerator) expect(objects).toContain(`Secret/${g.name}`);
    for (const p of overlay.patches) {
      expect(objects).toContain(`${p.target.kind}/${p.target.name}`);
      const target = all.find((m) => m.object.kind === p.target.kind && nameOf(m.object) === p.target.name)!;
      // Every JSON 6902 "replace" must name a field that exists (kustomize fails otherwise).
      for (const op of parse(p.patch) as { op: string; path: string }[]) {
        let at: unknown = target.object;
        for (const token of op.path.split("/").slice(1)) {
          at = (at as Json | undefined)?.[token.replaceAll("~1", "/").replaceAll("~0", "~")];
        }
        expect(at, `${op.path} in ${p.target.kind}/${p.target.name}`).toBeDefined();
      }
    }
  });
});
