// Panels of the entity page that show one list each: pending timers, dedup records, replicated
// values, and an event of the timeline with what was recorded of its command.
import { el, table, tree } from "./views.js";

export const na = () => el("p", { class: "muted" }, "Not available with this store.");

let links = { traceUrl: null, dashboardUrl: null };
/** The links the host is configured with (`GET /api/console`). */
export function setLinks(value) {
  links = value;
}
export const dashboardUrl = () => links.dashboardUrl;

export function timersPanel(timers) {
  return el(
    "section",
    { class: "panel", id: "timers" },
    el("h2", {}, "Pending timers"),
    timers === null
      ? na()
      : timers.length
        ? table(
            ["name", "due", "command", "data", "repeats"],
            timers.map((t) => [
              el("code", {}, t.name),
              t.due,
              t.command,
              el("code", {}, JSON.stringify(t.data) ?? ""),
              t.cron ? `cron ${t.cron}` : t.every ? `every ${t.every} ms` : "",
            ]),
          )
        : el("p", { class: "muted" }, "None."),
  );
}

export function dedupPanel(dedup) {
  return el(
    "section",
    { class: "panel", id: "dedup" },
    el("h2", {}, "Dedup records"),
    dedup === null
      ? na()
      : dedup.length
        ? table(
            ["id", "version", "expires"],
            dedup.map((d) => [el("code", {}, d.id), String(d.version), d.expiresAt ?? ""]),
          )
        : el("p", { class: "muted" }, "None live."),
  );
}

export function valuesPanel(values) {
  return el(
    "section",
    { class: "panel", id: "values" },
    el("h2", {}, "Replicated values"),
    values === null
      ? na()
      : table(
          ["value", "kind", "merged"],
          values.map((v) => [el("code", {}, v.name), el("span", { class: "tag" }, v.kind), tree(v.value)]),
        ),
  );
}

/** One event of the timeline: version, type, data, and its command's time, CloudEvent and trace. */
export function timelineItem(e, onclick) {
  const trace =
    e.traceId && links.traceUrl
      ? el(
          "a",
          { class: "trace", href: links.traceUrl.replace("{traceId}", e.traceId), target: "_blank" },
          "trace",
        )
      : e.traceId
        ? el("span", { class: "trace muted", title: e.traceId }, `trace ${e.traceId.slice(0, 8)}…`)
        : "";
  const origin = e.id ? el("span", { class: "origin muted" }, `${e.source ?? ""} #${e.id}`) : "";
  return el(
    "li",
    { "data-version": e.version, onclick },
    el("span", { class: "v" }, `v${e.version}`),
    el(
      "div",
      {},
      el("span", { class: "t" }, e.type),
      e.time ? el("time", { class: "muted", datetime: e.time }, ` ${e.time.replace("T", " ")}`) : "",
      " ",
      trace,
      el("code", {}, JSON.stringify(e.data)),
      origin,
    ),
  );
}
