// The outbox page: what waits to be relayed, and the dead letters with "retry" and "drop".
import { api, enc, optional } from "./api.js";
import { na } from "./panels.js";
import { el, table } from "./views.js";

const describe = (m) =>
  m && typeof m === "object"
    ? `${m.type ?? "?"} ${m.entityType ?? ""}/${m.entityId ?? ""} v${m.version ?? "?"}`
    : String(m);

export async function outboxPage(show, guarded, reload) {
  const info = await optional("/api/outbox", (r) => r);
  if (info === null) return show(el("h1", {}, "Outbox"), el("div", { class: "panel" }, na()));
  const act = (method, path) =>
    guarded(async () => {
      await api(path, { method });
      await reload();
    });
  const rows = info.deadLetters.map((d) => [
    el("code", {}, d.id),
    d.at ?? "",
    describe(d.message),
    d.reason,
    el(
      "span",
      { class: "actions" },
      el(
        "button",
        { class: "secondary retry", onclick: () => act("POST", `/api/outbox/dead/${enc(d.id)}/retry`) },
        "Retry",
      ),
      el(
        "button",
        {
          class: "danger drop",
          onclick: () =>
            window.confirm(`Drop dead letter ${d.id} for good?`) &&
            act("DELETE", `/api/outbox/dead/${enc(d.id)}?confirm=${enc(d.id)}`),
        },
        "Drop",
      ),
    ),
  ]);
  show(
    el("h1", {}, "Outbox"),
    el(
      "div",
      { class: "panel", id: "outbox-summary" },
      el(
        "p",
        {},
        el("strong", { id: "outbox-length" }, String(info.length)),
        " message(s) waiting to be relayed",
      ),
      info.oldest
        ? el("p", { class: "muted" }, `oldest committed ${info.oldest}: ${describe(info.oldestMessage)}`)
        : el("p", { class: "muted" }, "Nothing waiting."),
    ),
    el(
      "section",
      { class: "panel", id: "dead-letters" },
      el("h2", {}, `Dead letters (${info.deadCount})`),
      rows.length
        ? table(["id", "dead since", "message", "reason", ""], rows)
        : el("p", { class: "muted" }, "None."),
    ),
  );
}
