import { Cluster } from "ioredis";
import type { RedisClient } from "./redis-connection.js";

/**
 * Every key matching `pattern`, by SCAN on the server (on every master of a cluster). For rare
 * operator work such as erasure, never on the path of a command.
 */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  const servers = client instanceof Cluster ? client.nodes("master") : [client];
  for (const server of servers) {
    let cursor = "0";
    do {
      const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

/** `text` matched literally by a SCAN pattern. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
