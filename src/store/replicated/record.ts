import type { ReplicatedDedupRecord } from "../../entity/replicated/model.js";
import { decodeReplyId, encodeReplyId } from "../reply-id.js";

/**
 * A replicated command's dedup record as one short string, in the form of the event-sourced
 * ones (src/store/append-encoding.ts): `<seq>|`, `c` or `r`, the reply id, then the returned
 * cells (`c`, a JSON array of name, value pairs) or the reply's JSON (`r`, empty for no reply);
 * the reply id as `encodeReplyId` writes it. The host sends the part
 * after the sequence (`recordHead`); the apply script puts the sequence in front and, for `c`,
 * the cells after it. Records stored as JSON (`{"replyId", "seq", …}`) are still read.
 */
export function recordHead(replyId: string, reply: { value: unknown } | undefined): string {
  const id = encodeReplyId(replyId);
  if (reply === undefined) return `c${id}`;
  return `r${id}${(JSON.stringify(reply.value) as string | undefined) ?? ""}`;
}

/**
 * A whole record as the apply script writes it: `<seq>|`, the head, then for a `c` record the
 * returned cells as a JSON array of name, value pairs.
 */
export function encodeRecord(
  seq: number,
  replyId: string,
  reply: { value: unknown } | undefined,
  cells: readonly string[],
): string {
  const head = `${seq}|${recordHead(replyId, reply)}`;
  return reply === undefined ? `${head}${JSON.stringify(cells)}` : head;
}

/** A stored record (without its expiry): the short form, or JSON as written before it. */
export function decodeRecord(text: string): ReplicatedDedupRecord {
  if (text.startsWith("{")) return JSON.parse(text) as ReplicatedDedupRecord;
  const bar = text.indexOf("|");
  const seq = Number(text.slice(0, bar));
  const kind = text[bar + 1];
  const { replyId, after } = decodeReplyId(text.slice(bar + 2));
  if (kind === "c") return { replyId, seq, cells: JSON.parse(after) as string[] };
  return { replyId, seq, reply: after === "" ? undefined : JSON.parse(after) };
}
