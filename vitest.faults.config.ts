import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The fault-injection suite (`npm run test:faults`): real Redis and host processes under load,
 * one scenario at a time (they measure timing on a small machine), each printing its figures.
 */
export default defineConfig({
  resolve: {
    alias: {
      "knstate/testkit": fileURLToPath(new URL("./src/testkit/index.ts", import.meta.url)),
      knstate: fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
