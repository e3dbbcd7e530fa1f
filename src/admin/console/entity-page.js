// The entity page: state as a tree, a version slider (state at version N and the change it
// made), the event timeline, pending timers, dedup records and the operations.
import { api, enc, optional } from "./api.js";
import { dedupPanel, timelineItem, timersPanel, valuesPanel } from "./panels.js";
import { diff, diffList, el, tree } from "./views.js";

let ctx;
/** The shell's functions: show(...nodes), guarded(render), route(), types(). */
export function configure(shell) {
  ctx = shell;
}
const show = (...nodes) => ctx.show(...nodes);
const guarded = (render) => ctx.guarded(render);
const route = () => ctx.route();

export async function entityPage(type, id) {
  const base = `/api/entities/${enc(type)}/${enc(id)}`;
  const typeInfo = ctx.types().find((t) => t.type === type);
  const replicated = typeInfo?.kind === "replicated";
  const [current, firstEvents, dedup, timers, values] = await Promise.all([
    api(base),
    api(`${base}/events?limit=1000`),
    replicated ? null : optional(`${base}/dedup`, (r) => r.records),
    replicated ? null : optional(`${base}/timers`, (r) => r.timers),
    replicated ? optional(`${base}/values`, (r) => r.values) : undefined,
  ]);
  const version = current.version;
  const events = firstEvents.events;
  const stateBox = el("div", { class: "tree", id: "state" });
  const diffBox = el("div", { id: "diff" });
  const output = el("output", { id: "slider-value" });
  const slider = el("input", {
    type: "range",
    id: "version-slider",
    min: "0",
    max: String(version),
    value: String(version),
    "aria-label": "version",
  });
  const timeline = el(
    "ol",
    { class: "timeline", id: "timeline" },
    events.map((e) =>
      timelineItem(e, () => ((slider.value = String(e.version)), guarded(() => showVersion(e.version)))),
    ),
  );
  let shown = current.state;
  async function showVersion(n) {
    const at = n === version ? current : await api(`${base}?at=${n}`);
    const before =
      n === 0
        ? undefined
        : await api(`${base}?at=${n - 1}`).then(
            (r) => r.state,
            () => undefined,
          );
    const changes = n === 0 ? [] : diff(before, at.state);
    output.value = `version ${at.version} of ${version}`;
    stateBox.replaceChildren(tree(at.state, new Set(changes.map((c) => c.path))));
    diffBox.replaceChildren(
      el("h2", {}, n === 0 ? "Initial state" : `Change at version ${n}`),
      diffList(changes),
    );
    for (const li of timeline.children) li.classList.toggle("current", Number(li.dataset.version) === n);
    shown = at.state;
  }
  slider.addEventListener("input", () => guarded(() => showVersion(Number(slider.value))));
  const actions = el(
    "div",
    { class: "actions" },
    typeInfo?.kind === "event-sourced"
      ? el(
          "button",
          {
            class: "secondary",
            onclick: () => guarded(() => operate("POST", `${base}/rebuild-snapshot`, "Snapshot rebuilt")),
          },
          "Rebuild snapshot",
        )
      : "",
    replicated
      ? ""
      : el(
          "button",
          { class: "danger", onclick: () => guarded(() => confirmDelete(base, type, id)) },
          "Delete…",
        ),
    el(
      "button",
      { class: "secondary", onclick: () => navigator.clipboard?.writeText(JSON.stringify(shown, null, 2)) },
      "Copy state",
    ),
  );
  show(
    el(
      "h1",
      {},
      el("a", { href: `#/t/${enc(type)}` }, type),
      " / ",
      id,
      el("small", {}, `version ${version}`),
    ),
    el(
      "div",
      { class: "columns" },
      el(
        "div",
        {},
        el(
          "section",
          { class: "panel" },
          el("h2", {}, "State"),
          el("div", { class: "slider" }, slider, output),
          stateBox,
        ),
        el("section", { class: "panel" }, diffBox),
        el("section", { class: "panel" }, el("h2", {}, "Operations"), actions),
      ),
      el(
        "div",
        {},
        el(
          "section",
          { class: "panel" },
          el("h2", {}, `Events (${version})`),
          events.length
            ? timeline
            : el("p", { class: "muted" }, `No events are kept (${typeInfo?.kind ?? "?"} entity).`),
        ),
        values === undefined ? "" : valuesPanel(values),
        replicated ? "" : timersPanel(timers),
        replicated ? "" : dedupPanel(dedup),
      ),
    ),
  );
  await showVersion(version);
}

async function operate(method, path, done) {
  const result = await api(path, { method });
  alert(`${done}: ${JSON.stringify(result)}`);
  await route();
}

async function confirmDelete(base, type, id) {
  const typed = prompt(`Delete everything stored for ${type}/${id}? Type the id to confirm.`);
  if (typed !== id) return;
  await api(`${base}?confirm=${enc(id)}`, { method: "DELETE" });
  location.hash = `#/t/${enc(type)}`;
}
