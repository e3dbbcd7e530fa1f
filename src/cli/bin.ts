#!/usr/bin/env node
import { main } from "./index.js";

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // One line for a user; the stack with KNSTATE_DEBUG=1 for a bug report.
    const detail =
      error instanceof Error
        ? process.env.KNSTATE_DEBUG
          ? (error.stack ?? error.message)
          : error.message
        : String(error);
    process.stderr.write(`knstate: ${detail}\n`);
    process.exit(1);
  },
);
