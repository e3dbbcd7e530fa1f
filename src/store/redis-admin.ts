import { Cluster } from "ioredis";
import { decodeRecord } from "./append-encoding.js";
import {
  BadCursor,
  decodeCursor,
  encodeCursor,
  type DedupEntry,
  type EntityPage,
  type ListEntitiesOptions,
} from "./introspection.js";
import type { RedisClient } from "./redis-connection.js";
import { encodeSegment, type KeyLayout } from "./redis-keys.js";
import type { EntityKey, Snapshot } from "./state-store.js";

/**
 * The Redis side of the admin views, never on the command path: the entity index (a sorted set
 * per type, see redis-keys.ts), its SCAN fallback on a cluster, dedup records and snapshot rebuilds.
 */

/** Index entries one listing request reads at most (a rare prefix returns a short page and a cursor). */
const SCAN_BUDGET = 5000;
const BATCH = 500;

/** A page of the index, newest first; ties (same ms) in descending byte order of the id, as Redis orders them. */
export async function listIndexed(
  client: RedisClient,
  key: string,
  options: ListEntitiesOptions,
): Promise<EntityPage> {
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const afterId = after === undefined ? undefined : Buffer.from(after.id);
  const max = after === undefined ? "+inf" : String(after.score);
  const prefix = encodeSegment(options.prefix);
  const ids: string[] = [];
  let last: [number, string] | undefined;
  let offset = 0;
  let scanned = 0;
  while (scanned < SCAN_BUDGET) {
    const reply = await client.zrevrangebyscore(key, max, "-inf", "WITHSCORES", "LIMIT", offset, BATCH);
    for (let i = 0; i < reply.length; i += 2) {
      const id = reply[i]!;
      const score = Number(reply[i + 1]);
      scanned++;
      if (afterId !== undefined && score === after!.score && Buffer.compare(Buffer.from(id), afterId) >= 0) {
        continue;
      }
      last = [score, id];
      if (id.startsWith(prefix)) {
        ids.push(decodeEntityId(id));
        if (ids.length === options.limit) return { ids, cursor: encodeCursor(score, id) };
      }
    }
    if (reply.length < 2 * BATCH) return { ids, cursor: null };
    offset += BATCH;
  }
  return { ids, cursor: last === undefined ? null : encodeCursor(last[0], last[1]) };
}

/**
 * Without an index (a cluster, or the index turned off): SCAN every master for the type's entity
 * hashes. Ids come in descending byte order (creation times are not known); the cursor is the
 * last id. Costs a full SCAN per page: for occasional operator use only.
 */
export async function listScanned(
  client: RedisClient,
  pattern: string,
  options: ListEntitiesOptions,
): Promise<EntityPage> {
  let below: Buffer | undefined;
  if (options.cursor !== undefined) {
    const cursor = decodeCursor(options.cursor);
    if (cursor.score !== -1) throw new BadCursor("the cursor is not one this API returned");
    below = Buffer.from(cursor.id);
  }
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  const found: Buffer[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const id = decodeEntityId(key.slice(key.indexOf(":{") + 2, key.lastIndexOf("}:m")));
        if (!id.startsWith(options.prefix)) continue;
        const bytes = Buffer.from(id);
        if (below === undefined || Buffer.compare(bytes, below) < 0) found.push(bytes);
      }
    } while (cursor !== "0");
  }
  found.sort((a, b) => Buffer.compare(b, a));
  const ids = found.slice(0, options.limit).map((b) => b.toString());
  const more = found.length > options.limit;
  return { ids, cursor: more ? encodeCursor(-1, ids[ids.length - 1]!) : null };
}

/**
 * The inverse of `encodeSegment`: `%XX` runs are UTF-8 bytes, `%uXXXX` a lone surrogate. The id
 * inside a key's hash tag (`encodeEntityId`) also has `%-` (empty) and `#<sha256>` (a long id,
 * which stays hashed).
 */
export function decodeEntityId(encoded: string): string {
  if (encoded === "%-") return "";
  if (encoded.startsWith("#")) return encoded;
  let out = "";
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString("utf8");
    bytes = [];
  };
  for (let i = 0; i < encoded.length;) {
    if (encoded[i] === "%" && encoded[i + 1] === "u") {
      flush();
      out += String.fromCharCode(parseInt(encoded.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (encoded[i] === "%") {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      flush();
      out += encoded[i];
      i++;
    }
  }
  flush();
  return out;
}

/** The live dedup records in an entity's hash (`r<id>` fields hold the id, `#<digest>` a hashed one). */
export async function listDedupFields(client: RedisClient, meta: string, now: number): Promise<DedupEntry[]> {
  const out: DedupEntry[] = [];
  let cursor = "0";
  do {
    const [next, fields] = await client.hscan(meta, cursor, "MATCH", "[r#]*", "COUNT", 200);
    cursor = next;
    for (let i = 0; i < fields.length; i += 2) {
      const field = fields[i]!;
      const value = fields[i + 1]!;
      const expiresAt = parseInt(value.slice(0, value.indexOf("|")), 16);
      if (!(expiresAt > now)) continue;
      out.push({
        id: field.startsWith("r") ? field.slice(1) : field,
        expiresAt,
        record: decodeRecord(value, true),
      });
    }
  } while (cursor !== "0");
  return out.sort((a, b) => a.record.version - b.record.version);
}

const WRITE_SNAPSHOT = `#!lua
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'sv', ARGV[1], 's', ARGV[2])
return 1`;

/** Writes a rebuilt snapshot if the entity is still at its version. */
export async function writeSnapshotIfAt(
  client: RedisClient,
  layout: KeyLayout,
  key: EntityKey,
  snapshot: Snapshot,
): Promise<boolean> {
  const meta = layout.entity(key).meta;
  const text = JSON.stringify(snapshot.state) as string | undefined;
  const written = await client.eval(WRITE_SNAPSHOT, 1, meta, String(snapshot.version), text ?? "");
  return written === 1;
}
