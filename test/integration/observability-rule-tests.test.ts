import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { prometheusAvailable } from "../support/prometheus.js";
import { rules, RULES } from "./observability-shipped.js";

/** The shipped alerts over made-up histories, evaluated by `promtool test rules`. */

const available = prometheusAvailable();
const dir = mkdtempSync(join(tmpdir(), "knstate-rule-tests-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `promtool test rules` on `tests` over the shipped rule file; resolves with its output. */
function promtoolTest(tests: unknown[]): string {
  const file = join(dir, "tests.yaml");
  writeFileSync(file, stringify({ rule_files: [RULES], evaluation_interval: "1m", tests }));
  try {
    return execFileSync("promtool", ["test", "rules", file], { encoding: "utf8" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

describe.runIf(available)("shipped alerts under promtool test rules", () => {
  it("KnstateAfterCommitWorkFailing fires on failures that go on for 30 minutes, not on one", () => {
    const alert = rules.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === "KnstateAfterCommitWorkFailing")!;
    const { description } = (alert as unknown as { annotations: { description: string } }).annotations;
    const series = (service: string, work: string) =>
      `knstate_store_after_commit_failures_total{service="${service}",pod="${service}-1",work="${work}"}`;
    const output = promtoolTest([
      {
        interval: "1m",
        input_series: [
          // cart: a trim fails every minute; shop: one trim failed, then none.
          { series: series("cart", "trim"), values: "0+1x60" },
          { series: series("cart", "timer-slots"), values: "0x60" },
          { series: series("shop", "trim"), values: "0 1x60" },
        ],
        alert_rule_test: [
          // Pending for its first 30 minutes.
          { eval_time: "20m", alertname: "KnstateAfterCommitWorkFailing", exp_alerts: [] },
          {
            eval_time: "45m",
            alertname: "KnstateAfterCommitWorkFailing",
            exp_alerts: [
              {
                exp_labels: { severity: "ticket", service: "cart", work: "trim" },
                exp_annotations: { summary: "cart: trim after appends keeps failing", description },
              },
            ],
          },
        ],
      },
    ]);
    expect(output).toContain("SUCCESS");
  });
});
