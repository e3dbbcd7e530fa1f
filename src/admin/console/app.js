// The console's pages, routed by the location hash:
//   #/                      entity types with counts
//   #/t/<type>?prefix=…     the ids of a type, newest first, with search and paging
//   #/e/<type>/<id>         one entity: state, version slider with diff, timeline, dedup, timers
//   #/outbox                the outbox
import { api, ApiError, enc, setToken } from "./api.js";
import { configure, entityPage } from "./entity-page.js";
import { outboxPage } from "./outbox-page.js";
import { dashboardUrl, setLinks } from "./panels.js";
import { el, errorBox } from "./views.js";

const view = () => document.getElementById("view");
let types = [];

function show(...nodes) {
  view().replaceChildren(...nodes);
}

async function guarded(render) {
  try {
    await render();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin(error);
    show(errorBox(error));
  }
}

function showLogin(error) {
  const input = el("input", { type: "password", placeholder: "admin token", "aria-label": "admin token" });
  const form = el(
    "form",
    { class: "panel", onsubmit: (e) => (e.preventDefault(), setToken(input.value), route()) },
    el("h2", {}, "Admin token"),
    el("p", { class: "muted" }, error.message),
    input,
    " ",
    el("button", { type: "submit" }, "Sign in"),
  );
  show(form);
}

async function loadTypes() {
  ({ types } = await api("/api/types"));
  setLinks(await api("/api/console"));
  const select = document.getElementById("search-type");
  const current = select.value;
  select.replaceChildren(...types.map((t) => el("option", { value: t.type }, t.type)));
  if (current) select.value = current;
}

async function typesPage() {
  await loadTypes();
  show(
    el("h1", {}, "Entity types"),
    el(
      "div",
      { class: "grid" },
      types.map((t) =>
        el(
          "a",
          { class: "card", href: `#/t/${enc(t.type)}` },
          el("div", { class: "name" }, t.type),
          el("div", { class: "count" }, t.count === null ? "–" : t.count.toLocaleString()),
          el("span", { class: "tag" }, t.kind),
          el("div", { class: "muted" }, `${t.commands.length} command(s)`),
        ),
      ),
    ),
    el(
      "p",
      { class: "links" },
      el("a", { href: "#/outbox", id: "outbox-link" }, "Outbox →"),
      dashboardUrl()
        ? el("a", { href: dashboardUrl(), target: "_blank", id: "dashboard-link" }, "Dashboard ↗")
        : "",
    ),
  );
}

async function listPage(type, params) {
  const prefix = params.get("prefix") || "";
  const cursor = params.get("cursor") || "";
  const query = new URLSearchParams({ limit: "50" });
  if (prefix) query.set("prefix", prefix);
  if (cursor) query.set("cursor", cursor);
  if (types.find((t) => t.type === type)?.listed === false) {
    return show(
      el("h1", {}, type),
      el(
        "p",
        { class: "panel muted" },
        "Replicated entities are not indexed: open one by its id in the search box.",
      ),
    );
  }
  const page = await api(`/api/entities/${enc(type)}?${query}`);
  const next = page.cursor && `#/t/${enc(type)}?${new URLSearchParams({ prefix, cursor: page.cursor })}`;
  show(
    el("h1", {}, type, el("small", {}, prefix ? `ids starting with “${prefix}”` : "newest first")),
    el(
      "div",
      { class: "panel" },
      page.ids.length === 0
        ? el("p", { class: "muted" }, "No entities.")
        : el(
            "ul",
            { class: "ids" },
            page.ids.map((id) => el("li", {}, el("a", { href: `#/e/${enc(type)}/${enc(id)}` }, id))),
          ),
      el(
        "div",
        { class: "pager" },
        next ? el("a", { href: next }, "Next page →") : el("span", { class: "muted" }, "End of list"),
      ),
    ),
  );
}

async function route() {
  const hash = location.hash.slice(1) || "/";
  const [path, search = ""] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  await guarded(async () => {
    if (types.length === 0) await loadTypes();
    if (parts[0] === "t" && parts[1]) return listPage(parts[1], new URLSearchParams(search));
    if (parts[0] === "e" && parts[1] && parts.length >= 3)
      return entityPage(parts[1], parts.slice(2).join("/"));
    if (parts[0] === "outbox") return outboxPage(show, guarded, route);
    return typesPage();
  });
}

document.getElementById("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const type = document.getElementById("search-type").value;
  const id = document.getElementById("search-id").value.trim();
  if (!type) return;
  if (id === "") return void (location.hash = `#/t/${enc(type)}`);
  try {
    await api(`/api/entities/${enc(type)}/${enc(id)}`);
    location.hash = `#/e/${enc(type)}/${enc(id)}`;
  } catch {
    location.hash = `#/t/${enc(type)}?${new URLSearchParams({ prefix: id })}`;
  }
});
configure({ show, guarded, route, types: () => types });
window.addEventListener("hashchange", route);
route();
