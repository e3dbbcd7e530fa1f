import type { ReplicatedDedupRecord } from "../../entity/replicated/model.js";

/**
 * A replicated command's dedup record as one short string, in the form of the event-sourced
 * ones (src/store/append-encoding.ts): `<seq>|`, `c` or `r`, the reply id, then the returned
 * cells (`c`, a JSON array of name, value pairs) or the reply's JSON (`r`, empty for no reply).
 * A reply id that is a lowercase UUID (as the host makes them) is `u` and its 16 bytes in
 * base64url (23 characters instead of 36); any other is `<length>|<id>`. The host sends the part
 * after the sequence (`recordHead`); the apply script puts the sequence in front and, for `c`,
 * the cells after it. Records stored as JSON (`{"replyId", "seq", …}`) are still read.
 */
export function recordHead(replyId: string, reply: { value: unknown } | undefined): string {
  const id = UUID.test(replyId)
    ? `u${Buffer.from(replyId.replace(/-/g, ""), "hex").toString("base64url")}`
    : `${replyId.length}|${replyId}`;
  if (reply === undefined) return `c${id}`;
  return `r${id}${(JSON.stringify(reply.value) as string | undefined) ?? ""}`;
}

/** A stored record (without its expiry): the short form, or JSON as written before it. */
export function decodeRecord(text: string): ReplicatedDedupRecord {
  if (text.startsWith("{")) return JSON.parse(text) as ReplicatedDedupRecord;
  const bar = text.indexOf("|");
  const seq = Number(text.slice(0, bar));
  const kind = text[bar + 1];
  let rest = text.slice(bar + 2);
  let replyId: string;
  if (rest.startsWith("u")) {
    const hex = Buffer.from(rest.slice(1, 23), "base64url").toString("hex");
    replyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    rest = rest.slice(23);
  } else {
    const end = rest.indexOf("|");
    const length = Number(rest.slice(0, end));
    replyId = rest.slice(end + 1, end + 1 + length);
    rest = rest.slice(end + 1 + length);
  }
  if (kind === "c") return { replyId, seq, cells: JSON.parse(rest) as string[] };
  return { replyId, seq, reply: rest === "" ? undefined : JSON.parse(rest) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
