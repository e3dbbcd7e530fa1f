import { Command, type Redis } from "ioredis";
import { scriptSha } from "./redis-scripts.js";

export type ScriptArg = string | number;

/** A script with its SHA-1, ready for EVALSHA. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): Script {
  return { lua, sha: scriptSha(lua) };
}

/**
 * Runs `target` by its SHA-1 (`send("evalsha", sha)`), and once more with its source
 * (`send("eval", lua)`) when Redis lost it: a restart, a failover, `SCRIPT FLUSH`.
 */
export function withScriptFallback(
  target: Script,
  send: (command: "evalsha" | "eval", source: string) => Promise<unknown>,
): Promise<unknown> {
  return send("evalsha", target.sha).then(undefined, (error: Error) => {
    if (!error.message.startsWith("NOSCRIPT")) throw error;
    return send("eval", target.lua);
  });
}

const REPLY_AS_STRINGS = { replyEncoding: "utf8" } as const;

/**
 * Runs the store's scripts on a standalone Redis with the least work per call that ioredis
 * allows: one EVALSHA command, written to the socket while it is corked; the socket is
 * uncorked once per event-loop turn, so the scripts of every request handled in that turn
 * leave in one write. Auto-pipelining batches the same way, but wraps each command in a
 * pipeline, a custom-command script, two more promises and a callback, which cost about as
 * much CPU as the rest of the store. When Redis lost the script (a restart, a failover,
 * `SCRIPT FLUSH`), the call is sent again once as EVAL.
 */
export class ScriptSender {
  readonly #client: Redis;
  #corked: Redis["stream"] | undefined;
  readonly #uncork = () => {
    const stream = this.#corked;
    this.#corked = undefined;
    stream?.uncork();
  };

  constructor(client: Redis) {
    this.#client = client;
  }

  /** The script's reply, with bulk strings as strings. */
  run(target: Script, keys: string[], args: ScriptArg[]): Promise<unknown> {
    return withScriptFallback(target, (command, source) => this.#send(command, source, keys, args));
  }

  #send(name: string, script: string, keys: string[], args: ScriptArg[]): Promise<unknown> {
    // Command flattens its arguments one level: keys and args are copied once, there.
    const command = new Command(name, [script, keys.length, keys, args], REPLY_AS_STRINGS);
    this.#cork();
    void this.#client.sendCommand(command);
    return command.promise;
  }

  /** Holds this turn's writes back until the turn ends (`setImmediate` runs after the I/O callbacks). */
  #cork(): void {
    if (this.#corked !== undefined) return;
    const stream = this.#client.stream as Redis["stream"] | undefined;
    if (stream === undefined || this.#client.status !== "ready") return;
    stream.cork();
    this.#corked = stream;
    setImmediate(this.#uncork);
  }
}
