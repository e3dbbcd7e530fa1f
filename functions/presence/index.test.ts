import { describe, expect, it } from "vitest";
import { testReplicatedEntity } from "knstate";
import presence, { PRESENCE_TTL_MS } from "./index.js";

describe("presence", () => {
  it("lists members who sent a heartbeat within the TTL", () => {
    const doc = testReplicatedEntity(presence, "doc-1");
    doc.run("heartbeat", { user: "ann" });
    expect(doc.run("heartbeat", { user: "bob" }).reply).toEqual({ here: ["ann", "bob"] });
    doc.advance(PRESENCE_TTL_MS - 1);
    expect(doc.state).toEqual({ here: ["ann", "bob"] });
  });

  it("drops a member who stops heartbeating, without a goodbye", () => {
    const doc = testReplicatedEntity(presence);
    doc.run("heartbeat", { user: "ann" });
    doc.run("heartbeat", { user: "bob" });
    doc.advance(PRESENCE_TTL_MS / 2);
    doc.run("heartbeat", { user: "bob" });
    doc.advance(PRESENCE_TTL_MS / 2);
    expect(doc.run("who").reply).toEqual({ here: ["bob"] });
  });

  it("drops a member who leaves at once", () => {
    const doc = testReplicatedEntity(presence);
    doc.run("heartbeat", { user: "ann" });
    expect(doc.run("leave", { user: "ann" }).reply).toEqual({ here: [] });
  });

  it("refuses a heartbeat without a user", () => {
    expect(testReplicatedEntity(presence).run("heartbeat", {}).invalid).toMatch(/expected \{"user"/);
  });
});
