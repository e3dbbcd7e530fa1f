/**
 * A reply id in a compact dedup record: a lowercase UUID (as the host makes them) as `u` and
 * its 16 bytes in base64url (23 characters instead of 36), any other as `<length>|<id>`.
 */
export function encodeReplyId(replyId: string): string {
  return UUID.test(replyId)
    ? `u${Buffer.from(replyId.replace(/-/g, ""), "hex").toString("base64url")}`
    : `${replyId.length}|${replyId}`;
}

/** The reply id at the start of `text` (as `encodeReplyId` wrote it), and the text after it. */
export function decodeReplyId(text: string): { readonly replyId: string; readonly after: string } {
  if (text.startsWith("u")) {
    const hex = Buffer.from(text.slice(1, 23), "base64url").toString("hex");
    const replyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return { replyId, after: text.slice(23) };
  }
  const end = text.indexOf("|");
  const length = Number(text.slice(0, end));
  return { replyId: text.slice(end + 1, end + 1 + length), after: text.slice(end + 1 + length) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
