import { SEQ, splitCell, type Cells } from "./cells.js";
import type { ReplicatedOp } from "./operations.js";

/** What an apply knows besides the operations. */
export interface ApplyContext {
  /** The store's clock, µs since the epoch (Redis `TIME` in the script). */
  readonly nowUs: number;
  /** The sequence of the state the command was decided on: a remove only removes adds it saw. */
  readonly observed: number;
}

export type ApplyResult =
  | { readonly kind: "applied"; readonly cells: Cells; readonly seq: number }
  | { readonly kind: "refused"; readonly reason: string };

const MAX = Number.MAX_SAFE_INTEGER;

/** A lease cell: token, expiry (ms), holder ("" when released). */
export function parseLease(value: string | undefined): { token: number; expiresAt: number; holder: string } {
  if (value === undefined) return { token: 0, expiresAt: 0, holder: "" };
  const [token, rest] = splitCell(value);
  const [expiresAt, holder] = splitCell(rest);
  return { token, expiresAt, holder };
}

/**
 * Applies one command's operations to `cells`, all or nothing, exactly as the Redis script
 * does (src/store/replicated/scripts.ts): the same rules, in the same order, on the same cells,
 * with the same reasons for a refusal.
 * Pure: `cells` is not changed; a refusal (a counter leaving the safe integer range, a stale
 * fencing token) changes nothing.
 */
export function applyOps(cells: Cells, ops: readonly ReplicatedOp[], ctx: ApplyContext): ApplyResult {
  const seq0 = Number(cells.get(SEQ) ?? "0");
  if (ops.length === 0) return { kind: "applied", cells, seq: seq0 };
  const seq = seq0 + 1;
  const observed = Math.min(ctx.observed, seq0);
  const nowMs = Math.floor(ctx.nowUs / 1000);
  const next = new Map(cells);
  const purge = (prefix: string, when: (value: string) => boolean) => {
    for (const [name, value] of next) if (name.startsWith(prefix) && when(value)) next.delete(name);
  };
  for (const op of ops) {
    const current = next.get(op.cell);
    switch (op.code) {
      case "inc": {
        const value = Number(current ?? "0") + Number(op.a);
        if (Math.abs(value) > MAX) {
          return { kind: "refused", reason: "counter would leave the safe integer range" };
        }
        next.set(op.cell, String(value));
        break;
      }
      case "flag":
        next.set(op.cell, "1");
        break;
      case "lww": {
        const stored = current === undefined ? undefined : splitCell(current)[0];
        if (op.b === "") {
          next.set(op.cell, `${Math.max(ctx.nowUs, stored === undefined ? 0 : stored + 1)} ${op.a}`);
        } else if (stored === undefined || Number(op.b) > stored) {
          next.set(op.cell, `${op.b} ${op.a}`);
        }
        break;
      }
      case "fww":
        if (current === undefined) next.set(op.cell, `${ctx.nowUs} ${op.a}`);
        break;
      case "sadd":
        next.set(op.cell, String(seq));
        break;
      case "srem":
        if (current !== undefined && Number(current) <= observed) next.delete(op.cell);
        break;
      case "vote": {
        const ttl = Number(op.b);
        if (ttl > 0) {
          purge(op.c, (value) => {
            const expiresAt = splitCell(value)[0];
            return expiresAt > 0 && expiresAt <= nowMs;
          });
        }
        next.set(op.cell, `${ttl > 0 ? nowMs + ttl : 0} ${op.a}`);
        break;
      }
      case "unvote":
        next.delete(op.cell);
        break;
      case "mrem":
        if (current !== undefined && Number(current) <= observed) {
          next.delete(op.cell);
          if (op.a !== "") next.delete(op.a);
          if (op.b !== "") purge(op.b, () => true);
        }
        break;
      case "acq": {
        const lease = parseLease(current);
        const live = lease.holder !== "" && lease.expiresAt > nowMs;
        const expiresAt = nowMs + Number(op.b);
        if (live && lease.holder === op.a) next.set(op.cell, `${lease.token} ${expiresAt} ${op.a}`);
        else if (!live) next.set(op.cell, `${lease.token + 1} ${expiresAt} ${op.a}`);
        break;
      }
      case "rel": {
        const lease = parseLease(current);
        if (lease.holder === op.a && lease.expiresAt > nowMs) next.set(op.cell, `${lease.token} 0 `);
        break;
      }
      case "fence": {
        const token = parseLease(current).token;
        if (Number(op.a) !== token) {
          return {
            kind: "refused",
            reason: `fencing token ${op.a} is stale (current: ${token})`,
          };
        }
        break;
      }
    }
    if (op.entry !== "") next.set(op.entry, String(seq));
  }
  next.set(SEQ, String(seq));
  return { kind: "applied", cells: next, seq };
}
