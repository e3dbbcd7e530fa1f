import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { defineEntity } from "../../src/entity/define.js";
import { emit, reject } from "../../src/entity/effects.js";
import { cancel, schedule } from "../../src/entity/timers.js";
import { createHost } from "../../src/host/host.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { CommandContext, Component } from "../../src/entity/define.js";

/**
 * Timers on the memory store, in process: committed with the command's events (or not at all),
 * claimed with a lease, fired through the pipeline with their own dedup id.
 */

type S = { readonly log: readonly string[] };
const job = defineEntity({
  name: "job",
  typePrefix: "com.example",
  initialState: (): S => ({ log: [] }),
  commands: {
    start: (_s: S, d: { after: number }) =>
      emit([{ type: "noted", data: { what: "start" } }], undefined, {
        timers: [schedule({ name: "t", after: d.after, command: "ring", data: { n: 1 } })],
      }),
    both: () =>
      emit([{ type: "noted", data: { what: "both" } }], undefined, {
        timers: [cancel("t"), schedule({ name: "u", after: 0, command: "ring", data: { n: 2 } })],
      }),
    refuse: () => reject("no"),
    refuseAfterScheduling: (s: S) =>
      s.log.length >= 0
        ? reject("no")
        : emit([], undefined, {
            timers: [schedule({ name: "x", after: 0, command: "ring", data: { n: 0 } })],
          }),
    // @ts-expect-error: "nope" is not a command of job (refused at run time too, tested below)
    badCommand: () => emit([], undefined, { timers: [schedule({ name: "x", after: 0, command: "nope" })] }),
    tooOften: () =>
      emit([], undefined, { timers: [schedule({ name: "x", every: 10, command: "ring", data: { n: 0 } })] }),
    badCron: () =>
      emit([], undefined, {
        timers: [schedule({ name: "x", cron: "61 * * * *", command: "ring", data: { n: 0 } })],
      }),
    tick: () =>
      emit([], undefined, {
        timers: [schedule({ name: "tick", every: 1000, command: "ring", data: { n: 9 } })],
      }),
    ring: (_s: S, d: { n: number }, ctx: CommandContext) => [
      { type: "noted", data: { what: `ring ${d.n} ${ctx.timer?.name ?? "-"}` } },
    ],
  },
  events: { noted: (s: S, e: { what: string }): S => ({ log: [...s.log, e.what] }) },
}) as unknown as Component;

function setup() {
  const store = new MemoryStore();
  const config = loadConfig({ KNSTATE_TIMER_POLL_INTERVAL: "0", KNSTATE_TIMER_LEASE: "1s" });
  const host = createHost({ config, components: [job], store });
  const model = host.registry.entity("job")!;
  const send = (id: string, command: string, data: unknown = {}) =>
    host.dispatcher.dispatch({ model, entityId: id, command, data });
  const key = (id: string) => ({ entityType: "job", entityId: id });
  return { store, host, model, send, key, timers: host.timers! };
}

describe("timers on the memory store", () => {
  it("stores the timer with the events and fires it once, through the pipeline", async () => {
    const { store, send, key, timers, host, model } = setup();
    await send("a", "start", { after: 0 });
    expect((await store.timers.listTimers(key("a"))).map((t) => t.name)).toEqual(["t"]);
    expect(await timers.fireDue()).toBe(1);
    expect(await timers.fireDue()).toBe(0);
    const { state, version } = await host.dispatcher.read(model, "a");
    expect(state).toEqual({ log: ["start", "ring 1 t"] });
    expect(version).toBe(2);
    expect(await store.timers.listTimers(key("a"))).toEqual([]);
  });

  it("never fires early", async () => {
    const { send, timers } = setup();
    await send("a", "start", { after: 60_000 });
    expect(await timers.fireDue()).toBe(0);
    expect(await timers.pending()).toBe(1);
  });

  it("cancels and schedules in the same command as its events", async () => {
    const { store, send, key, timers, host, model } = setup();
    await send("a", "start", { after: 60_000 });
    await send("a", "both");
    expect((await store.timers.listTimers(key("a"))).map((t) => t.name)).toEqual(["u"]);
    await timers.fireDue();
    expect((await host.dispatcher.read(model, "a")).state).toEqual({ log: ["start", "both", "ring 2 u"] });
  });

  it("a rejected command schedules nothing", async () => {
    const { store, send, key } = setup();
    await expect(send("a", "refuseAfterScheduling")).rejects.toMatchObject({ status: 422 });
    expect(await store.timers.listTimers(key("a"))).toEqual([]);
    expect(await store.timers.countPending()).toBe(0);
  });

  it.each([
    ["badCommand", /unknown command "nope"/],
    ["tooOften", /"every" must be at least 1000 ms/],
    ["badCron", /invalid cron expression/],
  ])("refuses %s when the handler returns it: 500, nothing stored", async (command, why) => {
    const { store, send, key, host, model } = setup();
    const error = (await send("a", command).catch((e: unknown) => e)) as { status: number; cause: Error };
    expect(error.status).toBe(500);
    expect(error.cause.message).toMatch(why);
    expect(error.cause.message).toContain(`job.${command}`);
    expect(await store.timers.listTimers(key("a"))).toEqual([]);
    expect((await host.dispatcher.read(model, "a")).version).toBe(0);
  });

  it("a claimed timer is hidden until its lease ends, and a second firing applies nothing", async () => {
    const { store, send, timers, host, model } = setup();
    await send("a", "start", { after: 0 });
    const [claimed] = await store.timers.claimDue(Date.now(), 10, 1000);
    expect(claimed?.timer.name).toBe("t");
    expect(await timers.fireDue()).toBe(0);
    const later = await store.timers.claimDue(Date.now() + 1000, 10, 1000);
    expect(later).toHaveLength(1);
    // Fired twice with the same due time (two pods after a lease ended): applied once.
    await host.dispatcher.dispatch({
      model,
      entityId: "a",
      command: "ring",
      data: { n: 1 },
      dedupId: `timer:t:${claimed!.timer.due}`,
    });
    await store.timers.settle(later[0]!.key, "t", claimed!.timer.due, undefined);
    await expect(
      host.dispatcher.dispatch({
        model,
        entityId: "a",
        command: "ring",
        data: { n: 1 },
        dedupId: `timer:t:${claimed!.timer.due}`,
      }),
    ).resolves.toMatchObject({ duplicate: true });
    expect((await host.dispatcher.read(model, "a")).state).toEqual({ log: ["start", "ring 1 -"] });
    expect(await store.timers.countPending()).toBe(0);
  });

  it("a recurring timer that missed periods fires once, then keeps its period", async () => {
    const { store, send, key } = setup();
    await send("a", "tick");
    const [timer] = await store.timers.listTimers(key("a"));
    const late = timer!.due + 5_500; // five and a half periods missed
    const claimed = await store.timers.claimDue(late, 10, 1000);
    expect(claimed).toHaveLength(1);
    const { nextRecurrence } = await import("../../src/entity/timer-schedule.js");
    const next = nextRecurrence(timer!, late)!;
    await store.timers.settle(key("a"), "tick", timer!.due, next);
    expect(next - timer!.due).toBe(6_000);
    expect(await store.timers.claimDue(late, 10, 1000)).toEqual([]);
    expect((await store.timers.listTimers(key("a")))[0]!.due).toBe(next);
  });
});
