import { defineReplicatedEntity, reply, vote, emit } from "knstate";

/** `{"voter": "...", "option": "..."}`: two non-empty strings, no other keys. */
function ballot(input: unknown): { voter: string; option: string } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Error('expected an object like {"voter": "ann", "option": "red"}');
  }
  const { voter, option, ...rest } = input as { voter?: unknown; option?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`unexpected key "${extra[0]}"`);
  if (typeof voter !== "string" || voter === "") throw new Error("voter must be a non-empty string");
  if (typeof option !== "string" || option === "") throw new Error("option must be a non-empty string");
  return { voter, option };
}

/**
 * A poll: `com.example.poll.vote` with subject `lunch` and data `{"voter": "ann", "option":
 * "pizza"}`. Each voter has one vote; a new vote replaces theirs, so the results always add
 * up to the number of voters, whatever the number of replicas voting at once. `results`
 * (and `GET /poll/lunch`) answers `{"results": {"pizza": 1}, "voters": 1}`. Each applied vote
 * is published (with `K_SINK`) as `com.example.poll.voted` with the same data.
 */
export default defineReplicatedEntity({
  name: "poll",
  typePrefix: "com.example",
  values: { ballots: vote<string>() },
  commands: {
    vote: {
      input: ballot,
      handle: (_poll, { voter, option }, { ops }) =>
        emit([ops.ballots.vote(voter, option)], { voter, option }),
    },
    results: (poll) => reply({ results: poll.ballots.tally, voters: poll.ballots.voters }),
  },
  view: (poll) => ({ results: poll.ballots.tally, voters: poll.ballots.voters }),
  // With K_SINK set, each applied vote is published as com.example.poll.voted {voter, option}.
  publish: { vote: "voted" },
});
