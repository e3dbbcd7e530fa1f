import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionDirs } from "../support/function-dir.js";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { signingKey, startTokenIssuer, type SigningKey, type TokenIssuer } from "../support/token-issuer.js";

// A replicated entity's own `authorize` rule, through a running host: JWTs on the HTTP API,
// CloudEvents unauthenticated (the rule then sees no caller).
const AUDIENCE = "https://boards.example.com";

const BOARD = `
import { counter, defineReplicatedEntity } from "knstate";
export default defineReplicatedEntity({
  name: "board",
  typePrefix: "com.example",
  values: { hits: counter() },
  // Only the owner (the board id is the user id) may hit a board, and CloudEvents may hit
  // shared-* boards; boards named locked-* refuse everyone; anyone may read the others.
  authorize: (caller, request) =>
    !request.entityId.startsWith("locked") &&
    (request.kind === "read" ||
      caller?.subject === request.entityId ||
      (caller === undefined && request.entityId.startsWith("shared"))),
  commands: { hit: (_board, _data, { ops }) => [ops.hits.increment()] },
  reply: (board) => ({ hits: board.hits }),
});
`;

let issuer: TokenIssuer;
let key: SigningKey;
let host: HostProcess;
let dirs: Awaited<ReturnType<typeof functionDirs>>;

const token = (sub: string) => issuer.sign(key, { aud: AUDIENCE, sub });

async function api(path: string, as?: string, method = "GET"): Promise<Response> {
  return fetch(`${host.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(as === undefined ? {} : { authorization: `Bearer ${await token(as)}` }),
    },
    ...(method === "POST" ? { body: "{}" } : {}),
  });
}

async function expectForbidden(res: Response): Promise<void> {
  expect(res.status).toBe(403);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(await res.json()).toMatchObject({ type: "/problems/forbidden", status: 403 });
}

async function hits(board: string): Promise<number> {
  const res = await api(`/board/${board}`, "reader");
  expect(res.status).toBe(200);
  return ((await res.json()) as { state: { hits: number } }).state.hits;
}

beforeAll(async () => {
  issuer = await startTokenIssuer();
  key = await signingKey("rsa-1", "RS256");
  issuer.publish(key);
  dirs = await functionDirs();
  host = await spawnHost({
    functions: [await dirs.write("board", BOARD)],
    env: {
      KNSTATE_API_AUTH: "jwt",
      KNSTATE_JWT_JWKS_URL: issuer.jwksUrl,
      KNSTATE_JWT_ISSUER: issuer.issuer,
      KNSTATE_JWT_AUDIENCE: AUDIENCE,
      KNSTATE_EVENTS_AUTH: "off",
    },
  });
});
afterAll(async () => {
  await host?.stop();
  await issuer?.close();
  await dirs?.remove();
});

describe("a replicated entity's authorize rule", () => {
  it("lets the owner run a command and refuses another caller with 403, applying nothing", async () => {
    const own = await api("/board/alice/hit", "alice", "POST");
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ hits: 1 });
    await expectForbidden(await api("/board/alice/hit", "bob", "POST"));
    expect(await hits("alice")).toBe(1);
  });

  it("refuses reads and commands the rule denies to everyone", async () => {
    await expectForbidden(await api("/board/locked-1", "reader"));
    await expectForbidden(await api("/board/locked-1/hit", "locked-1", "POST"));
  });

  it("applies the rule to CloudEvents, where the caller is unauthenticated", async () => {
    const event = (id: string, subject: string) =>
      postEvent(`${host.url}/`, { id, type: "com.example.board.hit", subject, data: {} });
    expect((await event("e-1", "shared-1")).status).toBe(200);
    await expectForbidden(await event("e-2", "alice"));
    await expectForbidden(await event("e-3", "locked-2"));
    expect(await hits("shared-1")).toBe(1);
    expect(await hits("alice")).toBe(1);
  });
});
