import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { init } from "../../src/cli/init.js";
import { TEMPLATES, type TemplateName } from "../../src/cli/init-templates.js";
import { routingOf } from "../../src/deploy/routing.js";
import type { Component } from "../../src/entity/define.js";
import { ROOT } from "../support/host.js";

// Inside the repository (.tmp/ is ignored by git) so the scaffolded function resolves `knstate`
// and zod as a project that installed them would.
mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const work = mkdtempSync(join(ROOT, ".tmp/init-manifests-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One command type is an `exact` filter; more are `any` of them. */
type TypeFilter = { any: { exact: { type: string } }[] } | { exact: { type: string } };

function typesOf(filter: TypeFilter): string[] {
  return "any" in filter ? filter.any.map((f) => f.exact.type) : [filter.exact.type];
}

interface TriggerDoc {
  kind: string;
  spec: { filters: [TypeFilter, { not: { prefix: { source: string } } }] };
}

describe("knstate init writes the Service and the Trigger of the template's function", () => {
  it.each(Object.keys(TEMPLATES) as TemplateName[])(
    "%s: the Trigger routes exactly the command types the function declares, and keeps its own output out",
    async (template) => {
      const dir = join(work, template);
      await init({ dir, template });
      const name = TEMPLATES[template].defaultName;
      const docs = parseAllDocuments(readFileSync(join(dir, `knative/${name}.yaml`), "utf8")).map(
        (d) => d.toJS() as TriggerDoc,
      );
      expect(docs.map((d) => d.kind)).toEqual(["Service", "Trigger"]);
      const trigger = docs[1]!;
      const module = (await import(join(dir, `functions/${name}/index.ts`))) as { default: Component };
      const routing = routingOf(name, [module.default]);
      expect(typesOf(trigger.spec.filters[0])).toEqual(routing.commandTypes);
      expect(trigger.spec.filters[1].not.prefix.source).toBe(routing.ownSourcePrefix);
      expect(TEMPLATES[template].events.map((e) => `com.example.${name}.${e}`)).toEqual(
        routing.publishedTypes,
      );
    },
  );
});
