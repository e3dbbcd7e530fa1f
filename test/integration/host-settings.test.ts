import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/store/memory-store.js";
import { startHost, type RunningHost } from "../support/host.js";

/** A store that never answers its ping, as a Redis behind a dropped network would. */
class UnansweringStore extends MemoryStore {
  override ping(): Promise<void> {
    return new Promise<void>(() => undefined);
  }
}

describe("the host's timeouts come from the settings table", () => {
  let running: RunningHost | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it("sets the server's header and keep-alive timeouts from KNSTATE_HEADERS_TIMEOUT and KNSTATE_KEEP_ALIVE_TIMEOUT", async () => {
    running = await startHost({ env: { KNSTATE_HEADERS_TIMEOUT: "3s", KNSTATE_KEEP_ALIVE_TIMEOUT: "7s" } });
    expect(running.host.server.headersTimeout).toBe(3000);
    expect(running.host.server.keepAliveTimeout).toBe(7000);
  });

  it("keeps the defaults when they are not set", async () => {
    running = await startHost();
    expect(running.host.server.headersTimeout).toBe(10_000);
    expect(running.host.server.keepAliveTimeout).toBe(65_000);
  });

  it("gives the store's ping KNSTATE_READINESS_TIMEOUT before /readyz answers 503", async () => {
    running = await startHost({ store: new UnansweringStore(), env: { KNSTATE_READINESS_TIMEOUT: "50ms" } });
    const response = await fetch(`${running.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: "store unavailable",
      detail: "store did not answer within 0.05s",
    });
  });
});
