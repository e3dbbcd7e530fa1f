import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { defineAction, defineEntity, defineValueEntity } from "knstate";
import type { Component } from "knstate";
import { deployCommand } from "../../src/cli/deploy-argv.js";
import { manifestsForFunction } from "../../src/deploy/function-service.js";
import { routingOf } from "../../src/deploy/routing.js";
import { DEFAULT_IMAGE, VISIBILITY_LABEL } from "../../src/deploy/service.js";
import { buildTrigger } from "../../src/deploy/trigger.js";
import { validators } from "../support/knative-schemas.js";
import { delivers } from "../support/trigger-filter.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FUNCTIONS = ["counter", "shopping-cart", "echo"].map((f) => join(ROOT, "functions", f));
type Json = Record<string, unknown>;

async function run(args: string[], command: "manifest" | "secret" = "manifest") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await deployCommand(
    command,
    args,
    {},
    (l) => out.push(l),
    (l) => err.push(l),
  );
  const text = out.join("\n");
  return {
    code,
    text,
    err: err.join("\n"),
    docs: code === 0 ? parseAllDocuments(text).map((d) => d.toJSON() as Json) : [],
  };
}

/** An entity whose event has the name of a command: only the source guard keeps it out. */
const ledger = defineEntity({
  name: "ledger",
  typePrefix: "com.acme",
  initialState: () => ({ n: 0 }),
  commands: { record: () => [{ type: "record" as const, data: {} }], close: () => [] },
  events: { record: (s: { n: number }) => ({ n: s.n + 1 }) },
});
const profile = defineValueEntity({
  name: "profile",
  typePrefix: "com.acme",
  initialState: () => ({}),
  commands: { set: (_s: object, data: { name: string }) => data },
});
const ping = defineAction({ name: "ping", typePrefix: "com.acme", handlers: { ping: () => "pong" } });

describe("knstate manifest", () => {
  const variants: [string, string[]][] = [
    ["defaults", []],
    [
      "public, linear backoff, a URI dead-letter sink",
      ["--public", "--backoff-policy", "linear", "--dead-letter-sink", "http://dlq.ops.svc.cluster.local"],
    ],
    [
      "another broker, no retries, a Service dead-letter sink",
      [
        "--broker",
        "commands",
        "--retry",
        "0",
        "--dead-letter-sink",
        "dead-letters",
        "--backoff-delay",
        "PT2S",
      ],
    ],
    [
      "a namespace and a Redis Secret",
      [
        "--namespace",
        "shop",
        "--redis-secret",
        "prod-redis",
        "--image",
        "registry.example.com/knstate:1.2.3",
      ],
    ],
  ];
  it.each(variants)(
    "prints a Service and a Trigger that validate against the Knative CRDs: %s",
    async (_name, flags) => {
      const byKind = validators();
      for (const dir of FUNCTIONS) {
        const { code, docs, err } = await run([dir, ...flags]);
        expect(err).toBe("");
        expect(code).toBe(0);
        // A function that uses timers also gets the PingSource that wakes it (see timers-manifest.test.ts).
        const timers = dir.endsWith("shopping-cart") ? ["PingSource"] : [];
        expect(docs.map((d) => d.kind)).toEqual(["Service", "Trigger", ...timers]);
        for (const doc of docs) {
          if (doc.kind === "PingSource") continue; // no PingSource CRD among the fixtures
          const validate = byKind.get(`${String(doc.apiVersion)} ${String(doc.kind)}`)!;
          expect(validate(doc), `${dir} ${String(doc.kind)}: ${JSON.stringify(validate.errors)}`).toBe(true);
        }
      }
    },
  );

  it("the Trigger's schema check catches a malformed filter", () => {
    const trigger = structuredClone(
      buildTrigger(routingOf("ping", [ping as unknown as Component])),
    ) as unknown as Json & {
      spec: { filters: unknown };
    };
    trigger.spec.filters = { exact: { type: "x" } };
    expect(validators().get("eventing.knative.dev/v1 Trigger")!(trigger)).toBe(false);
  });

  it("is cluster-local unless --public", async () => {
    const labels = (docs: Json[]) => (docs[0]!.metadata as { labels: Json }).labels;
    expect(labels((await run([FUNCTIONS[0]!])).docs)[VISIBILITY_LABEL]).toBe("cluster-local");
    expect(labels((await run([FUNCTIONS[0]!, "--public"])).docs)).not.toHaveProperty([VISIBILITY_LABEL]);
  });

  it("wires REDIS_URL from the named Secret, and leaves the Trigger out with --no-trigger", async () => {
    const { docs } = await run([FUNCTIONS[0]!, "--redis-secret", "prod-redis", "--no-trigger"]);
    expect(docs.map((d) => d.kind)).toEqual(["Service"]);
    expect(JSON.stringify(docs[0])).toContain(
      '"valueFrom":{"secretKeyRef":{"name":"prod-redis","key":"url"}}',
    );
  });

  it("refuses bad trigger options, naming each", async () => {
    const { code, err } = await run([
      FUNCTIONS[0]!,
      "--broker",
      "Bad_Name",
      "--backoff-delay",
      "500ms",
      "--backoff-policy",
      "random",
    ]);
    expect(code).toBe(1);
    expect(err).toContain('broker "Bad_Name" must be a DNS label');
    expect(err).toContain('backoff delay "500ms" must be an ISO 8601 duration');
    expect(err).toContain('backoff policy "random" must be exponential or linear');
    expect((await run([FUNCTIONS[0]!, "--retry", "many"])).code).toBe(2);
  });
});

describe("the Trigger filter", () => {
  const cases: [string, Component[]][] = [
    ["an event named like a command", [ledger as unknown as Component]],
    [
      "a value entity and an action in one function",
      [profile as unknown as Component, ping as unknown as Component],
    ],
  ];
  it.each(cases)(
    "routes every command type and none of the function's own output: %s",
    (_name, components) => {
      const routing = routingOf("acme", components);
      const filters = buildTrigger(routing).spec.filters as unknown as Json[];
      expect(routing.commandTypes.length).toBeGreaterThan(1);
      for (const type of routing.commandTypes)
        expect(delivers(filters, { type, source: "/client" }), type).toBe(true);
      for (const type of [...routing.replyTypes, ...routing.publishedTypes]) {
        expect(delivers(filters, { type, source: `/acme/${type.split(".")[2]}` }), type).toBe(false);
      }
      // Other functions' events, and types that only share a prefix, stay out too.
      expect(delivers(filters, { type: "com.acme.other.record", source: "/client" })).toBe(false);
      expect(delivers(filters, { type: `${routing.commandTypes[0]}x`, source: "/client" })).toBe(false);
    },
  );

  it("routes the example functions' commands, as the shipped Triggers do", async () => {
    for (const dir of FUNCTIONS) {
      const { trigger, routing } = await manifestsForFunction(dir, { image: DEFAULT_IMAGE });
      for (const type of routing.commandTypes) {
        expect(delivers(trigger!.spec.filters as unknown as Json[], { type, source: "/cli" })).toBe(true);
      }
      for (const type of routing.replyTypes) {
        expect(delivers(trigger!.spec.filters as unknown as Json[], { type, source: "/elsewhere" })).toBe(
          false,
        );
      }
    }
  });
});

describe("knstate secret redis", () => {
  it("prints the Secret that --redis-secret names", async () => {
    const { code, docs, text } = await run(
      ["redis", "--url", "redis://:s3cret@redis.data:6379/0", "--namespace", "shop"],
      "secret",
    );
    expect(code).toBe(0);
    expect(text).toMatch(/^# .*do not commit it/);
    expect(docs).toEqual([
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: "knstate-redis",
          namespace: "shop",
          labels: { "app.kubernetes.io/part-of": "knstate" },
        },
        type: "Opaque",
        stringData: { url: "redis://:s3cret@redis.data:6379/0" },
      },
    ]);
  });

  it("refuses a URL that is not Redis's, and asks for --url", async () => {
    const bad = await run(["redis", "--url", "http://redis:6379"], "secret");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("url must start with redis:// or rediss://");
    const missing = await run(["redis"], "secret");
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--url is required");
  });
});

describe("routing of a replicated entity that publishes", () => {
  it("lists the events its publish mapping names, and its Trigger keeps them out", async () => {
    const poll = (await import("../../functions/poll/index.js")).default as unknown as Component;
    const routing = routingOf("poll", [poll]);
    expect(routing.publishedTypes).toEqual(["com.example.poll.voted"]);
    const filters = buildTrigger(routing).spec.filters as unknown as Json[];
    expect(delivers(filters, { type: "com.example.poll.voted", source: "/poll/poll" })).toBe(false);
    expect(delivers(filters, { type: "com.example.poll.vote", source: "/client" })).toBe(true);
  });
});
