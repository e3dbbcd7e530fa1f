import { describe, expect, it } from "vitest";
import { RELAY_POLL_MS, relayConfig } from "../../src/cli/relay.js";
import { loadConfig } from "../../src/config/load-config.js";

describe("knstate relay's configuration", () => {
  it("reads the outbox every 20 ms by default, where a pod reads every 200 ms (commits elsewhere do not wake it)", () => {
    const env = { K_SINK: "http://127.0.0.1:9/" };
    const pod = loadConfig(env);
    expect(pod.outboxPollMs).toBe(200);
    const relay = relayConfig(pod, env);
    expect(relay.outboxPollMs).toBe(RELAY_POLL_MS);
    expect(RELAY_POLL_MS).toBe(20);
    expect({ ...relay, outboxPollMs: pod.outboxPollMs }).toEqual(pod);
  });

  it("keeps KNSTATE_OUTBOX_POLL when it is set", () => {
    const env = { K_SINK: "http://127.0.0.1:9/", KNSTATE_OUTBOX_POLL: "500ms" };
    expect(relayConfig(loadConfig(env), env).outboxPollMs).toBe(500);
  });
});
