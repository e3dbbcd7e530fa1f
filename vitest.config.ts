import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "knstate/testkit": fileURLToPath(new URL("./src/testkit/index.ts", import.meta.url)),
      knstate: fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts", "functions/**/*.test.ts"],
    exclude: ["test/faults/**", "node_modules/**", "bench/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
