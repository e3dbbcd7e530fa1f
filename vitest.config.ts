import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Two projects, run together by `npm test`:
 * - `unit` (`npm run test:unit`): pure logic in this process, no ports, no child processes, no build;
 * - `integration`: real HTTP on loopback, real redis-server, Prometheus, kubectl and `knstate serve`
 *   child processes; its global setup compiles `dist/` once for the tests that spawn the CLI.
 * The fault-injection suite has its own config (vitest.faults.config.ts).
 */
export default defineConfig({
  resolve: {
    alias: {
      "knstate/testkit": fileURLToPath(new URL("./src/testkit/index.ts", import.meta.url)),
      knstate: fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "functions/**/*.test.ts"],
          setupFiles: ["test/unit-setup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
