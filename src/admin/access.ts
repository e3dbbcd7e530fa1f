import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

export interface AdminAccessOptions {
  /** `KNSTATE_ADMIN_TOKEN`: every request needs `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
  /** NODE_ENV=production: without a token or another check, everything is refused. */
  readonly production: boolean;
  /**
   * Another accepted credential (a JWT of the API's authentication with the admin role): resolves
   * with who it names (for the log of operations), undefined to refuse.
   */
  readonly authenticate?: AdminAuthenticate | undefined;
}

export type AdminAuthenticate = (req: IncomingMessage) => Promise<string | undefined>;

/** Who each admitted request's credential names (a JWT's subject), for `adminUser`. */
const verified = new WeakMap<IncomingMessage, string>();

/** Why the admin API refuses everything, or undefined when it can admit requests. */
export function lockedReason(options: AdminAccessOptions): string | undefined {
  if (!options.production || options.token !== undefined || options.authenticate !== undefined)
    return undefined;
  return "NODE_ENV=production and neither KNSTATE_ADMIN_TOKEN nor the API's JWT authentication is configured: the admin API answers 401 to every request";
}

/** Throws the 401 problem unless the request may use the admin port. */
export async function checkAdminAccess(req: IncomingMessage, options: AdminAccessOptions): Promise<void> {
  const locked = lockedReason(options);
  if (locked !== undefined) throw new HostError(Problem.adminUnauthorized, locked);
  if (options.token !== undefined) {
    const header = req.headers.authorization ?? "";
    const given = /^Bearer (.+)$/i.exec(header)?.[1]?.trim() ?? "";
    if (sameSecret(given, options.token)) return;
    if (!(await admitted(req, options.authenticate))) {
      const jwt = options.authenticate === undefined ? "" : " or a JWT with the admin role";
      throw new HostError(
        Problem.adminUnauthorized,
        `send Authorization: Bearer <KNSTATE_ADMIN_TOKEN>${jwt}`,
      );
    }
    return;
  }
  if (options.authenticate !== undefined && !(await admitted(req, options.authenticate))) {
    throw new HostError(
      Problem.adminUnauthorized,
      "send Authorization: Bearer <JWT> with a token the API accepts that carries KNSTATE_ADMIN_ROLE",
    );
  }
}

async function admitted(req: IncomingMessage, authenticate: AdminAuthenticate | undefined) {
  const user = authenticate === undefined ? undefined : await authenticate(req);
  if (user !== undefined) verified.set(req, user);
  return user !== undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Who asked for an operation, for the log: the JWT's subject (`jwt:<sub>`), else `X-Admin-User`,
 * else the connection's peer.
 */
export function adminUser(req: IncomingMessage): string {
  const subject = verified.get(req);
  if (subject !== undefined) return `jwt:${subject}`;
  const named = req.headers["x-admin-user"];
  const user = Array.isArray(named) ? named[0] : named;
  if (user !== undefined && user.trim() !== "") return user.trim().slice(0, 200);
  return `port-forward@${req.socket.remoteAddress ?? "unknown"}`;
}
