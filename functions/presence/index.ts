import { defineReplicatedEntity, reply, vote } from "knstate";

/** How long a member stays present without a heartbeat. */
export const PRESENCE_TTL_MS = 30_000;

function member(input: unknown): { user: string } {
  const user = (input as { user?: unknown } | null)?.user;
  if (typeof user !== "string" || user === "") throw new Error('expected {"user": "<non-empty string>"}');
  return { user };
}

/**
 * Who is in a shared workspace now: `com.example.presence.heartbeat` with subject `doc-1` and
 * `{"user": "ann"}` every few seconds keeps ann present; she disappears 30 s after her last
 * heartbeat, with or without a `leave`. `GET /presence/doc-1` shows `{"here": ["ann"]}`.
 */
export default defineReplicatedEntity({
  name: "presence",
  typePrefix: "com.example",
  values: { members: vote({ ttlMs: PRESENCE_TTL_MS }) },
  commands: {
    heartbeat: { input: member, handle: (_p, { user }, { ops }) => [ops.members.vote(user, true)] },
    leave: { input: member, handle: (_p, { user }, { ops }) => [ops.members.withdraw(user)] },
    who: (p) => reply({ here: Object.keys(p.members.votes) }),
  },
  reply: (p) => ({ here: Object.keys(p.members.votes) }),
  view: (p) => ({ here: Object.keys(p.members.votes) }),
});
