import { Command, InvalidArgumentError } from "commander";
import type { CommandHost } from "./index.js";

/** Exit codes: 0 success, 1 the operation failed, 2 usage error (commander). */
const EXIT = { ok: 0, failed: 1 } as const;

interface Common {
  url?: string;
  token?: string;
  json?: boolean;
}

/**
 * `knstate inspect`: the admin API's views in the terminal, against the admin port
 * (`--url`, default http://127.0.0.1:$ADMIN_PORT). `--json` prints the API's JSON. Exit code 0,
 * 1 when the admin API answered a problem or cannot be reached (one line), 2 for a usage error.
 */
export function inspectCommand(host: CommandHost): Command {
  const command = new Command("inspect")
    .summary("look at entities through the admin port")
    .description(
      "Look at entity types, ids, state (at any version) and events through the admin API.\n" +
        "Reach a pod's admin port with: kubectl port-forward <pod> 9465",
    );
  const common = (sub: Command) =>
    sub
      .option("--url <admin-url>", "the admin API (default: http://127.0.0.1:$ADMIN_PORT, port 9465)")
      .option("--token <token>", "admin token (default: $KNSTATE_ADMIN_TOKEN)")
      .option("--json", "print the API's JSON");
  const run = (o: Common, path: string, print: (body: unknown) => void) =>
    host.run(async () => {
      const body = await ask(host, o, path);
      if (body === undefined) return EXIT.failed;
      if (o.json) host.out(JSON.stringify(body, null, 2));
      else print(body);
      return EXIT.ok;
    });

  command.addCommand(
    common(new Command("types").summary("entity types with their kind and count")).action((o: Common) =>
      run(o, "/api/types", (body) => {
        const { types } = body as {
          types: Array<{ type: string; kind: string; count: number | null; commands: string[] }>;
        };
        host.out(
          columns([
            ["TYPE", "KIND", "ENTITIES", "COMMANDS"],
            ...types.map((t) => [
              t.type,
              t.kind,
              t.count === null ? "-" : String(t.count),
              t.commands.join(","),
            ]),
          ]),
        );
      }),
    ),
  );
  command.addCommand(
    common(new Command("list").summary("ids of a type, newest first").argument("<type>"))
      .option("--prefix <prefix>", "only ids starting with this")
      .option("--limit <n>", "ids per page (1-1000)", wholeNumber, 100)
      .option("--cursor <cursor>", "the page after the one that printed this cursor")
      .action((type: string, o: Common & { prefix?: string; limit: number; cursor?: string }) => {
        const query = new URLSearchParams({ limit: String(o.limit) });
        if (o.prefix) query.set("prefix", o.prefix);
        if (o.cursor) query.set("cursor", o.cursor);
        return run(o, `/api/entities/${encodeURIComponent(type)}?${query.toString()}`, (body) => {
          const page = body as { ids: string[]; cursor: string | null };
          for (const id of page.ids) host.out(id);
          if (page.cursor !== null) host.err(`more: knstate inspect list ${type} --cursor ${page.cursor}`);
        });
      }),
  );
  command.addCommand(
    common(
      new Command("get")
        .summary("an entity's state, now or at version N")
        .argument("<type>")
        .argument("<id>"),
    )
      .option("--at <n>", "the state after the n-th event", wholeNumber)
      .action((type: string, id: string, o: Common & { at?: number }) =>
        run(o, `${entityPath(type, id)}${o.at === undefined ? "" : `?at=${o.at}`}`, (body) => {
          const { state, version } = body as { state: unknown; version: number };
          host.out(`${type}/${id} at version ${version}`);
          host.out(JSON.stringify(state, null, 2));
        }),
      ),
  );
  command.addCommand(
    common(new Command("events").summary("an entity's events, in order").argument("<type>").argument("<id>"))
      .option("--from <n>", "first version", wholeNumber, 1)
      .option("--limit <n>", "events per page (1-1000)", wholeNumber, 100)
      .action((type: string, id: string, o: Common & { from: number; limit: number }) =>
        run(o, `${entityPath(type, id)}/events?from=${o.from}&limit=${o.limit}`, (body) => {
          const page = body as {
            events: Array<{
              version: number;
              type: string;
              data: unknown;
              time?: string | null;
              traceId?: string | null;
              id?: string | null;
            }>;
            next: number | null;
          };
          host.out(
            columns(
              page.events.map((e) => [
                `v${e.version}`,
                e.time ?? "-",
                e.type,
                JSON.stringify(e.data) ?? "",
                [e.traceId ? `trace=${e.traceId}` : "", e.id ? `ce-id=${e.id}` : ""]
                  .filter(Boolean)
                  .join(" "),
              ]),
            ),
          );
          if (page.next !== null) host.err(`more: knstate inspect events ${type} ${id} --from ${page.next}`);
        }),
      ),
  );
  command.addCommand(
    common(
      new Command("timers").summary("an entity's pending timers").argument("<type>").argument("<id>"),
    ).action((type: string, id: string, o: Common) =>
      run(o, `${entityPath(type, id)}/timers`, (body) => {
        const { timers } = body as {
          timers: Array<{ name: string; due: string; command: string; data: unknown }>;
        };
        if (timers.length === 0) return host.out("no pending timers");
        host.out(
          columns([
            ["NAME", "DUE", "COMMAND", "DATA"],
            ...timers.map((t) => [t.name, t.due, t.command, JSON.stringify(t.data) ?? ""]),
          ]),
        );
      }),
    ),
  );
  command.addCommand(
    common(
      new Command("values").summary("a replicated entity's values").argument("<type>").argument("<id>"),
    ).action((type: string, id: string, o: Common) =>
      run(o, `${entityPath(type, id)}/values`, (body) => {
        const { values } = body as { values: Array<{ name: string; kind: string; value: unknown }> };
        host.out(
          columns([
            ["VALUE", "KIND", "MERGED"],
            ...values.map((v) => [v.name, v.kind, JSON.stringify(v.value)]),
          ]),
        );
      }),
    ),
  );
  command.addCommand(
    common(new Command("outbox").summary("the outbox: messages waiting, dead letters")).action((o: Common) =>
      run(o, "/api/outbox", (body) => {
        const view = body as {
          length: number;
          oldest: string | null;
          deadCount: number;
          deadLetters: Array<{
            id: string;
            at: string;
            reason: string;
            message: { type?: string; id?: string };
          }>;
        };
        host.out(`waiting: ${view.length}${view.oldest === null ? "" : ` (oldest ${view.oldest})`}`);
        host.out(`dead letters: ${view.deadCount}`);
        if (view.deadLetters.length > 0) {
          host.out(
            columns([
              ["ID", "DEAD SINCE", "MESSAGE", "REASON"],
              ...view.deadLetters.map((d) => [
                d.id,
                d.at,
                `${d.message.type ?? "?"} ${d.message.id ?? ""}`,
                d.reason,
              ]),
            ]),
          );
        }
      }),
    ),
  );
  return command;
}

function entityPath(type: string, id: string): string {
  return `/api/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
}

function wholeNumber(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

/** The API's JSON, or undefined after printing one line saying why not. */
async function ask(host: CommandHost, o: Common, path: string): Promise<unknown> {
  const base = (o.url ?? `http://127.0.0.1:${host.env["ADMIN_PORT"] || "9465"}`).replace(/\/+$/, "");
  const token = o.token ?? host.env["KNSTATE_ADMIN_TOKEN"];
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    host.err(
      `knstate inspect: cannot reach ${base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
    );
    return undefined;
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    host.err(`knstate inspect: ${base} answered ${response.status} without JSON (is it the admin port?)`);
    return undefined;
  }
  if (!response.ok) {
    const problem = body as { title?: string; detail?: string };
    host.err(`knstate inspect: ${response.status} ${problem.title ?? ""}: ${problem.detail ?? ""}`.trim());
    return undefined;
  }
  return body;
}

function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows
    .map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  "))
    .join("\n");
}
