import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { settings } from "../../src/config/settings.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return files(path, pattern);
    return pattern.test(entry) ? [path] : [];
  });
}

/** What users and operators read: the README, docs/, the alert rules and dashboards, the manifests. */
const documents = [
  join(ROOT, "README.md"),
  ...files(join(ROOT, "docs"), /\.md$/),
  ...files(join(ROOT, "observability"), /\.(ya?ml|json|md)$/),
  ...files(join(ROOT, "knative"), /\.(ya?ml|sh|md)$/),
];

/** Variables read outside the settings table: the function list of `knstate serve`, and the benchmarks' own. */
const readElsewhere: Record<string, RegExp> = {
  KNSTATE_FUNCTIONS: /./,
  KNSTATE_ROOT: /docs\/benchmarks\.md$/,
};

describe("documentation", () => {
  it("names only environment variables that knstate reads", () => {
    const known = new Set(settings.map((s) => s.env));
    const unknown: string[] = [];
    for (const file of documents) {
      const name = relative(ROOT, file);
      for (const [variable] of readFileSync(file, "utf8").matchAll(/\bKNSTATE_[A-Z0-9_]*[A-Z0-9]\b/g)) {
        if (known.has(variable) || readElsewhere[variable]?.test(name)) continue;
        unknown.push(`${name}: ${variable}`);
      }
    }
    expect(documents.length).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });

  it("the README's layout names every folder of src/", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const layout = readme.slice(
      readme.indexOf("Layout — "),
      readme.indexOf("```\n\n", readme.indexOf("Layout — ")),
    );
    const folders = readdirSync(join(ROOT, "src")).filter((f) =>
      statSync(join(ROOT, "src", f)).isDirectory(),
    );
    expect(folders.length).toBeGreaterThan(5);
    for (const folder of folders)
      expect(layout, `add src/${folder}/ to the README's layout`).toMatch(
        new RegExp(`^src/${folder}/ `, "m"),
      );
  });

  it("third-party data in test/fixtures/ carries its NOTICE and LICENSE", () => {
    const fixtures = join(ROOT, "test", "fixtures");
    // Every folder of data copied from another project; the rest of test/fixtures/ is knstate's own.
    const folders = ["cloudevents-conformance", "knative-crds"];
    for (const folder of folders) {
      expect(readdirSync(join(fixtures, folder)), folder).toEqual(
        expect.arrayContaining(["LICENSE", "NOTICE"]),
      );
      expect(readFileSync(join(fixtures, folder, "LICENSE"), "utf8")).toContain("Apache License");
    }
  });
});
