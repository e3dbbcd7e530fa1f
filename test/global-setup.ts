import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Tests that spawn `knstate serve` run the compiled CLI: build it once before the run. */
export default function setup(): void {
  console.log("global setup: compiling dist/ (tsc -p tsconfig.build.json)");
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdio: "inherit",
  });
}
