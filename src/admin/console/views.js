// Small DOM helpers of the console: elements built from data (never HTML strings), the state
// tree and the diff between two states.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function errorBox(error) {
  return el("div", { class: "error", role: "alert" }, error.message || String(error));
}

/** A JSON value as a nested list; paths in `changed` are highlighted. */
export function tree(value, changed = new Set(), path = "") {
  if (value === null || typeof value !== "object") return scalar(value, changed.has(path));
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) return el("span", { class: "lit" }, Array.isArray(value) ? "[]" : "{}");
  return el(
    "ul",
    {},
    entries.map(([key, child]) => {
      const childPath = `${path}/${key}`;
      return el(
        "li",
        {},
        el("span", { class: changed.has(childPath) ? "key changed" : "key" }, String(key)),
        ": ",
        tree(child, changed, childPath),
      );
    }),
  );
}

function scalar(value, highlight) {
  const kind = typeof value === "string" ? "str" : typeof value === "number" ? "num" : "lit";
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return el("span", { class: highlight ? `${kind} changed` : kind }, text);
}

/** Leaf-level differences between two states: [{ path, before, after }]. */
export function diff(before, after, path = "", out = []) {
  const isObj = (v) => v !== null && typeof v === "object";
  if (isObj(before) && isObj(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) diff(before[key], after[key], `${path}/${key}`, out);
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push({ path: path || "/", before, after });
  }
  return out;
}

export function diffList(changes) {
  if (changes.length === 0) return el("p", { class: "muted" }, "No change.");
  return el(
    "ul",
    { class: "diff" },
    changes.map((c) =>
      el(
        "li",
        {},
        el("strong", {}, c.path),
        " ",
        c.before === undefined ? "" : el("span", { class: "del" }, `− ${JSON.stringify(c.before)}`),
        " ",
        c.after === undefined ? "" : el("span", { class: "add" }, `+ ${JSON.stringify(c.after)}`),
      ),
    ),
  );
}

export function table(headers, rows) {
  return el(
    "table",
    {},
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headers.map((h) => el("th", {}, h)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((r) =>
        el(
          "tr",
          {},
          r.map((c) => el("td", {}, c)),
        ),
      ),
    ),
  );
}
