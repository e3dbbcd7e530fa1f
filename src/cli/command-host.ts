import { readFileSync } from "node:fs";

/** What every subcommand shares: its host (environment, output, exit code), the exit codes, the version. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What a command's action gets: it resolves with the process exit code. */
export interface CommandHost {
  readonly env: Env;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Runs an action and records its exit code. */
  run(action: () => Promise<number>): Promise<void>;
}

/** Exit codes: 0 success, 1 the operation failed, 2 usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The version of this package (its package.json is two or three folders up: src/cli or dist/src/cli). */
export const VERSION = readVersion();

function readVersion(): string {
  for (const up of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "knstate" && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return "0.0.0";
}
