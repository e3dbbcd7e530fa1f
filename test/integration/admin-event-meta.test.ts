import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewsHost, TRACE, type ViewsHost } from "../support/admin-views.js";
import { redisAvailable } from "../support/redis.js";

for (const kind of ["memory", "redis"] as const) {
  describe.skipIf(kind === "redis" && !redisAvailable())(
    `admin access by JWT and the event metadata on the ${kind} store`,
    () => {
      let host: ViewsHost;
      beforeAll(async () => {
        host = await startViewsHost(kind);
      }, 60_000);
      afterAll(async () => {
        await host?.close();
      });
      const call = (...args: Parameters<ViewsHost["call"]>) => host.call(...args);
      const token = (...args: Parameters<ViewsHost["token"]>) => host.token(...args);

      it("admits a JWT with the admin role, refuses one without it (403) and a bad one (401)", async () => {
        expect((await call("/api/types", {}, await token(["knstate-admin"]))).status).toBe(200);
        expect((await call("/api/types", {}, await token(["reader"]))).status).toBe(403);
        expect((await call("/api/types", {}, "not-a-token")).status).toBe(401);
        expect((await call("/api/types")).status).toBe(200);
      });

      it("shows each event's time, CloudEvent id and source and trace id", async () => {
        const before = Date.now();
        const ce = await host.cloudEvent("evt-1", "m1", 4, `00-${TRACE}-00f067aa0ba902b7-01`);
        expect(ce.status).toBeLessThan(300);
        const { status, body } = await call("/api/entities/counter/m1/events");
        expect(status).toBe(200);
        const [event] = body["events"] as Array<Record<string, unknown>>;
        expect(event).toMatchObject({ version: 1, id: "evt-1", source: "/sensors/7", traceId: TRACE });
        const time = Date.parse(event!["time"] as string);
        expect(time).toBeGreaterThanOrEqual(before - 1);
        expect(time).toBeLessThanOrEqual(Date.now() + 1);
        expect((await call("/api/console")).body).toEqual({
          traceUrl: "http://jaeger.example/trace/{traceId}",
          dashboardUrl: null,
        });
      });

      it("keeps each command's metadata when its events move from the hash to the stream", async () => {
        const key = { entityType: "counter", entityId: "long" };
        // 20 commands of 2 events: past 32 events the hash's events move to the stream.
        for (let c = 0; c < 20; c++) {
          const result = await host.store.append({
            key,
            expectedVersion: 2 * c,
            events: [
              { type: "changed", data: { by: c } },
              { type: "changed", data: { by: -c } },
            ],
            logEvents: true,
            checkDedup: [],
            writeDedup: [],
            dedupTtlMs: 1000,
            meta: [{ time: 1_700_000_000_000 + c, traceId: TRACE, eventId: `cmd-${c}`, source: "/s" }, null],
          });
          expect(result).toEqual({ kind: "ok", version: 2 * c + 2 });
        }
        const { body } = await call("/api/entities/counter/long/events?from=2&limit=40");
        const events = body["events"] as Array<{
          version: number;
          id: string;
          command: number;
          time: string;
        }>;
        expect(events.map((e) => e.version)).toEqual(Array.from({ length: 39 }, (_, i) => i + 2));
        for (const e of events) {
          const c = Math.floor((e.version - 1) / 2);
          expect(e).toMatchObject({ id: `cmd-${c}`, command: 2 * c + 1 });
          expect(e.time).toBe(new Date(1_700_000_000_000 + c).toISOString());
        }
        expect((await call("/api/entities/counter/long")).body["state"]).toEqual({ value: 0 });
      });
    },
  );
}
