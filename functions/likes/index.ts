import { counter, defineReplicatedEntity } from "knstate";

/** `{"by": n}` with n a safe integer ≥ 1 (default 1); no other keys. */
function amount(input: unknown): { by: number } {
  if (input === undefined || input === null) return { by: 1 };
  if (typeof input !== "object" || Array.isArray(input)) throw new Error('expected an object like {"by": 1}');
  const { by = 1, ...rest } = input as { by?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`unexpected key "${extra[0]}"`);
  if (typeof by !== "number" || !Number.isSafeInteger(by) || by < 1) {
    throw new Error("by must be a safe integer of at least 1");
  }
  return { by };
}

/**
 * A like counter meant to be hammered: `com.example.likes.like` with subject `post-1` adds
 * one like (or `{"by": n}`), from any number of replicas at once, without a conflict or a
 * retry. Every command replies `{"count": n}`; `GET /likes/post-1` shows `{"count": n}`.
 * Unlikes are not floored at zero: a floor would need the count each replica cannot know.
 */
export default defineReplicatedEntity({
  name: "likes",
  typePrefix: "com.example",
  values: { count: counter() },
  commands: {
    like: { input: amount, handle: (_likes, { by }, { ops }) => [ops.count.increment(by)] },
    unlike: { input: amount, handle: (_likes, { by }, { ops }) => [ops.count.decrement(by)] },
  },
  reply: (likes) => ({ count: likes.count }),
});
