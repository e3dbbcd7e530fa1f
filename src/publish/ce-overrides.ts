import { JSON_FORMAT_MEMBERS } from "../cloudevents/event.js";

/** The extension attribute that carries the entity version an event produced. */
export const ENTITY_VERSION_EXTENSION = "entityversion";

/** Attributes an override may not replace: `K_CE_OVERRIDES` only adds extensions. */
const PROTECTED: ReadonlySet<string> = new Set([...JSON_FORMAT_MEMBERS, ENTITY_VERSION_EXTENSION]);

/**
 * Parses `K_CE_OVERRIDES` (`{"extensions":{"tenant":"acme"}}`, set by a SinkBinding) into the
 * extensions to add. Names that are not valid CloudEvents attribute names, or that would replace
 * a standard attribute, are reported in `ignored` rather than applied.
 */
export function parseCeOverrides(json: string | undefined): {
  extensions: Record<string, string>;
  ignored: string[];
} {
  const extensions: Record<string, string> = {};
  const ignored: string[] = [];
  if (json === undefined || json.trim() === "") return { extensions, ignored };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`K_CE_OVERRIDES is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const raw = (parsed as { extensions?: unknown } | null)?.extensions;
  if (raw === undefined) return { extensions, ignored };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error('K_CE_OVERRIDES must look like {"extensions":{"name":"value"}}');
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const scalar = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    if (!scalar || !/^[a-z0-9]{1,20}$/.test(name) || PROTECTED.has(name)) {
      ignored.push(name);
      continue;
    }
    extensions[name] = String(value);
  }
  return { extensions, ignored };
}
