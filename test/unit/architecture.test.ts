import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The dependency rules of src/: folders form a directed acyclic graph (no two folders import each
 * other, directly or through a third), and the domain (src/entity) depends on nothing of the host.
 * The graph is read from the import and re-export lines of the TypeScript sources, dynamic
 * `import("…")` included, so a cycle that only appears when a module is loaded on demand counts too.
 */
const srcRoot = fileURLToPath(new URL("../../src/", import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const specifierPatterns = [
  /\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g,
  /\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
  /^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm,
];

/** The files one source file imports, as paths below src/ (`.js` specifiers name `.ts` files). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const targets = new Set<string>();
  for (const pattern of specifierPatterns) {
    for (const match of text.matchAll(pattern)) {
      const target = resolve(dirname(file), match[1]!.replace(/\.js$/, ".ts"));
      if (target.startsWith(srcRoot)) targets.add(relative(srcRoot, target));
    }
  }
  return [...targets];
}

/** The top-level folder of a path below src/ (`index.ts` at the root is the folder "."). */
function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? "." : path.slice(0, slash);
}

interface FolderEdge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly imported: string;
}

function folderEdges(): FolderEdge[] {
  const edges: FolderEdge[] = [];
  for (const absolute of sourceFiles(srcRoot)) {
    const file = relative(srcRoot, absolute);
    for (const imported of importsOf(absolute)) {
      const from = folderOf(file);
      const to = folderOf(imported);
      if (from !== to) edges.push({ from, to, file, imported });
    }
  }
  return edges;
}

/** Every cycle of the folder graph, each once, as the list of folders along it. */
function folderCycles(edges: readonly FolderEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (!next.has(edge.from)) next.set(edge.from, new Set());
    next.get(edge.from)!.add(edge.to);
  }
  const cycles = new Map<string, string[]>();
  const walk = (path: string[]): void => {
    const last = path[path.length - 1]!;
    for (const target of next.get(last) ?? []) {
      const seen = path.indexOf(target);
      if (seen >= 0) {
        const cycle = path.slice(seen);
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(" → "), canonical);
      } else {
        walk([...path, target]);
      }
    }
  };
  for (const folder of next.keys()) walk([folder]);
  return [...cycles.values()];
}

/** A cycle with the import lines that make each of its steps, for the failure message. */
function explain(cycle: readonly string[], edges: readonly FolderEdge[]): string {
  const steps = cycle.map((from, i) => {
    const to = cycle[(i + 1) % cycle.length]!;
    const via = edges.filter((e) => e.from === from && e.to === to).map((e) => `${e.file} → ${e.imported}`);
    return `  ${from} → ${to}: ${via.join(", ")}`;
  });
  return [`${[...cycle, cycle[0]].join(" → ")}`, ...steps].join("\n");
}

describe("the folders of src/", () => {
  const edges = folderEdges();

  it("reads the import graph (the walk sees the pipeline importing the store)", () => {
    expect(edges.some((e) => e.from === "pipeline" && e.to === "store")).toBe(true);
  });

  it("import each other in one direction only: no cycle between folders", () => {
    const cycles = folderCycles(edges);
    expect(cycles.map((cycle) => explain(cycle, edges))).toEqual([]);
  });

  it("finds a cycle when there is one (the walk itself)", () => {
    const made: FolderEdge[] = [
      { from: "a", to: "b", file: "a/x.ts", imported: "b/y.ts" },
      { from: "b", to: "c", file: "b/y.ts", imported: "c/z.ts" },
      { from: "c", to: "a", file: "c/z.ts", imported: "a/x.ts" },
    ];
    expect(folderCycles(made)).toEqual([["a", "b", "c"]]);
  });

  it("keep the domain inward: src/entity imports nothing from the host's folders", () => {
    const outward = edges.filter((e) => e.from === "entity");
    expect(outward.map((e) => `${e.file} → ${e.imported}`)).toEqual([]);
  });
});
