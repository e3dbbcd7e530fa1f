import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./host.js";

/** The compiled package's entry (the global setup builds dist/), for function modules written by tests. */
export const KNSTATE_DIST = pathToFileURL(join(ROOT, "dist/src/index.js")).href;

/**
 * Function folders written by a test, each an `index.mjs` of `source` (which may use
 * `import { defineEntity } from "knstate"`, resolved to the compiled package).
 */
export async function functionDirs(): Promise<{
  write(name: string, source: string): Promise<string>;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "knstate-functions-"));
  return {
    async write(name, source) {
      const folder = join(dir, name);
      await mkdir(folder, { recursive: true });
      await writeFile(
        join(folder, "index.mjs"),
        source.replaceAll('"knstate"', JSON.stringify(KNSTATE_DIST)),
      );
      return folder;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
