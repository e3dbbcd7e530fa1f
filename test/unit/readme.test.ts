import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { settings } from "../../src/config/settings.js";
import { Problem } from "../../src/errors/problems.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The rows of the README's configuration table: variable, flag, default, meaning. */
function configurationRows(): string[][] {
  const section = readme.slice(readme.indexOf("## Configuration"));
  const lines = section.split("\n");
  const start = lines.findIndex((line) => /^\|\s*variable\s*\|/.test(line));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

describe("README", () => {
  it.each(settings.map((s) => [s.env, s] as const))(
    "documents the setting %s with its default",
    (_env, setting) => {
      const row = readme
        .split("\n")
        .find((line) => line.replace(/\s+/g, "").startsWith(`|\`${setting.env}\`|`));
      expect(row, `README configuration table has no row for ${setting.env}`).toBeDefined();
      expect(row).toContain(setting.default === undefined ? "unset" : `\`${setting.default}\``);
    },
  );

  it("has one configuration row per setting, in the table's order, with its flag and doc", () => {
    const rows = configurationRows();
    expect(rows.map((row) => row[0])).toEqual(settings.map((s) => `\`${s.env}\``));
    for (const setting of settings) {
      const row = rows.find((r) => r[0] === `\`${setting.env}\``)!;
      expect(row[1], setting.env).toBe(setting.flag === undefined ? "" : `\`--${setting.flag}\``);
      expect(row[2], setting.env).toBe(setting.default === undefined ? "unset" : `\`${setting.default}\``);
      expect(row[3], setting.env).toBe(setting.doc);
    }
  });

  it.each(Object.values(Problem).map((p) => [p.type]))("lists the problem %s", (type) => {
    expect(readme).toContain(`\`${type}\``);
  });
});
