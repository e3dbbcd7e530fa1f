import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Router } from "../http/router.js";

/** The console's files (src/admin/console, copied next to the compiled code by `npm run build`). */
export const CONSOLE_DIR = fileURLToPath(new URL("./console/", import.meta.url));

const FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "views.js": "text/javascript; charset=utf-8",
  "api.js": "text/javascript; charset=utf-8",
  "entity-page.js": "text/javascript; charset=utf-8",
  "panels.js": "text/javascript; charset=utf-8",
  "outbox-page.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "views.css": "text/css; charset=utf-8",
};

/**
 * `GET /` (the console page) and `GET /console/{file}` (its scripts and style): a fixed list of
 * files, read once and kept; no file outside the list can be asked for.
 */
export function addConsoleRoutes(router: Router, directory = CONSOLE_DIR): void {
  const cache = new Map<string, Buffer>();
  const serve = async (name: string, res: ServerResponse) => {
    const type = FILES[name];
    if (type === undefined) throw new HostError(Problem.notFound, "no such console file");
    let body = cache.get(name);
    if (body === undefined) {
      body = await readFile(join(directory, name));
      cache.set(name, body);
    }
    res.writeHead(200, {
      "content-type": type,
      "content-length": body.length,
      "cache-control": "no-cache",
      "content-security-policy":
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
      "x-content-type-options": "nosniff",
    });
    res.end(body);
  };
  router.add("GET", "/", "api", (_req, res) => serve("index.html", res));
  router.add("GET", "/console/:file", "api", (_req, res, [file]) => serve(file!, res));
}
