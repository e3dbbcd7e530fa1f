import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Component } from "../entity/define.js";

const KINDS = new Set(["event-sourced", "value", "action", "replicated"]);
const ENTRIES = ["index.js", "index.mjs", "index.ts", "index.mts"];

export function isComponent(value: unknown): value is Component {
  return (
    typeof value === "object" &&
    value !== null &&
    KINDS.has((value as { kind?: unknown }).kind as string) &&
    typeof (value as { name?: unknown }).name === "string"
  );
}

/**
 * Loads the entities and actions that function folders (or module files) export: the default
 * export and every named export that is a component, or an array of them. A TypeScript entry
 * is loaded through `tsx` when it is installed; production images serve compiled JavaScript.
 */
export async function loadFunctions(paths: readonly string[]): Promise<Component[]> {
  const components: Component[] = [];
  for (const path of paths) {
    const file = entryOf(path);
    if (/\.m?ts$/.test(file)) await registerTypeScript(file);
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const found: Component[] = [];
    for (const value of Object.values(module)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (isComponent(item) && !found.includes(item)) found.push(item);
      }
    }
    if (found.length === 0) {
      throw new Error(`${file} exports no entity or action (export default defineEntity({...}))`);
    }
    components.push(...found);
  }
  return components;
}

function entryOf(path: string): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new Error(`function path ${path} does not exist`);
  if (!statSync(absolute).isDirectory()) return absolute;
  for (const entry of ENTRIES) {
    const candidate = join(absolute, entry);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`function folder ${path} has no ${ENTRIES.join(", ")}`);
}

let tsRegistered = false;
async function registerTypeScript(file: string): Promise<void> {
  if (tsRegistered) return;
  try {
    const tsx = (await import("tsx/esm/api")) as { register: () => unknown };
    tsx.register();
    tsRegistered = true;
  } catch {
    throw new Error(`${file} is TypeScript: compile it to JavaScript first, or install tsx (npm i -D tsx)`);
  }
}
