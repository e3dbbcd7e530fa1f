import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { settings } from "../../config/defaults.js";
import { Problem } from "../../src/errors/problems.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it.each(settings.map((s) => [s.env, s] as const))(
    "documents the setting %s with its default",
    (_env, setting) => {
      const row = readme
        .split("\n")
        .find((line) => new RegExp(`^\\|\\s*\`${setting.env}\`\\s*\\|`).test(line));
      expect(row, `README configuration table has no row for ${setting.env}`).toBeDefined();
      expect(row).toContain(setting.default === undefined ? "unset" : `\`${setting.default}\``);
    },
  );

  it.each(Object.values(Problem).map((p) => [p.type]))("lists the problem %s", (type) => {
    expect(readme).toContain(`\`${type}\``);
  });
});
