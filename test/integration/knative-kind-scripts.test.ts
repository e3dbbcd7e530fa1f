import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/host.js";

const KIND = join(ROOT, "knative", "kind");
const scripts = readdirSync(KIND)
  .filter((f) => f.endsWith(".sh"))
  .sort();
const read = (f: string) => readFileSync(join(KIND, f), "utf8");

function hasShellcheck(): boolean {
  return spawnSync("shellcheck", ["--version"]).status === 0;
}

describe("knative/kind scripts", () => {
  it("are shellcheck clean", (ctx) => {
    if (!hasShellcheck()) {
      if (process.env.CI)
        throw new Error(
          "shellcheck is not installed, and CI is set: install it (sudo bash .ci/install-tools)",
        );
      console.warn(
        "SKIPPED: shellcheck is not installed, the kind scripts were not checked (sudo bash .ci/install-tools)",
      );
      ctx.skip();
      return;
    }
    const files = [...scripts, "versions.env"];
    const result = spawnSync("shellcheck", ["-x", "--severity=style", ...files], {
      cwd: KIND,
      encoding: "utf8",
    });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("shellcheck would catch a mistake", (ctx) => {
    if (!hasShellcheck()) {
      if (process.env.CI) throw new Error("shellcheck is not installed, and CI is set");
      ctx.skip();
      return;
    }
    const result = spawnSync("shellcheck", ["-"], {
      input: "#!/usr/bin/env bash\nrm -rf $dir/*\n",
      encoding: "utf8",
    });
    expect(result.status).not.toBe(0);
  });

  it("run strictly, are executable and parse", () => {
    expect(scripts).toEqual([
      "01-cluster.sh",
      "02-knative.sh",
      "03-deploy.sh",
      "04-smoke.sh",
      "05-teardown.sh",
      "lib.sh",
      "up.sh",
    ]);
    for (const f of scripts) {
      const text = read(f);
      expect(text.startsWith("#!/usr/bin/env bash\n"), f).toBe(true);
      if (f !== "lib.sh") {
        expect(text, f).toMatch(/^set -euo pipefail$/m);
        expect(statSync(join(KIND, f)).mode & 0o111, `${f} is executable`).not.toBe(0);
      }
      execFileSync("bash", ["-n", join(KIND, f)]);
    }
    for (const step of scripts.filter((f) => /^0\d-/.test(f))) expect(read("up.sh")).toContain(`/${step}"`);
  });

  it("pin every version they install", () => {
    const versions = read("versions.env");
    expect(versions).toMatch(/^KIND_NODE_IMAGE="kindest\/node:v1\.3\d\.\d+(@sha256:[0-9a-f]{64})?"$/m);
    for (const key of ["KNATIVE_SERVING_VERSION", "KNATIVE_KOURIER_VERSION", "KNATIVE_EVENTING_VERSION"]) {
      expect(versions).toMatch(new RegExp(`^${key}="knative-v1\\.2\\d\\.\\d+"$`, "m"));
    }
    const all = scripts.map(read).join("\n");
    expect(all).not.toMatch(/latest/);
    expect(all).not.toMatch(/releases\/download\/knative-v/); // versions come from versions.env only
    expect(all).toContain('--image "${KIND_NODE_IMAGE}"');
  });
});
