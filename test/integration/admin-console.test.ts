import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import likes from "../../functions/likes/index.js";
import reminder from "../../functions/reminder/index.js";
import { RedisOutboxSource } from "../../src/outbox/redis-source.js";
import type { RedisStore } from "../../src/store/redis-store.js";
import { startAdminHost, type AdminHost } from "../support/admin.js";
import { examples, ROOT } from "../support/host.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis.js";

const CHROMIUM = "/usr/bin/chromium";

/**
 * Where the screenshots go: `.tmp/console-screenshots/` (look at them after a run), or with
 * `UPDATE_SCREENSHOTS=1` the docs' own pictures, so a test run leaves the checkout clean.
 */
const SHOTS = join(ROOT, process.env.UPDATE_SCREENSHOTS === "1" ? "docs" : ".tmp/console-screenshots");
mkdirSync(SHOTS, { recursive: true });

/** True when the system Chromium exists; warns loudly otherwise, and throws when CI is set. */
function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `${CHROMIUM} is missing: the console browser tests are SKIPPED (install it: sudo bash .ci/install-tools)`;
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} !!!!!!!!!!\n`);
  return false;
}

const amounts = [3, 4, -2, 10, 5, -1];

describe.skipIf(!chromiumAvailable() || !redisAvailable())("the admin console in Chromium", () => {
  let redis: RedisServer;
  let host: AdminHost;
  let browser: Browser;
  let page: Page;
  const values: number[] = [];
  const started = Date.now();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    host = await startAdminHost(
      redis.url,
      {
        KNSTATE_TRACE_URL: "http://jaeger.example/trace/{traceId}",
        KNSTATE_DASHBOARD_URL: "http://grafana.example/d/knstate",
      },
      undefined,
      [...examples, reminder, likes] as never,
    );
    for (const id of ["order-17", "order-18", "cart-7"])
      await host.command("counter", id, "increment", { by: 1 });
    for (const by of amounts) {
      values.push(
        ((await host.command("counter", "demo-1", "increment", { by })) as { value: number }).value,
      );
    }
    await host.command("cart", "alice", "addItem", { sku: "apple", quantity: 2 }).catch(() => undefined);
    await host.command("reminder", "r1", "schedule", { name: "tea", afterMs: 3_600_000, message: "brew" });
    await host.command("likes", "post-1", "like", { by: 5 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await redis?.stop();
  });

  it("shows the entity types with their counts", async () => {
    await page.goto(host.admin);
    const card = page.locator("a.card", { hasText: "counter" });
    await card.waitFor();
    expect(await card.locator(".count").textContent()).toBe("4");
    await page.screenshot({ path: join(SHOTS, "console-types.png") });
  });

  it("finds an entity by id, shows its state, its timeline and state at any version", async () => {
    await page.selectOption("#search-type", "counter");
    await page.fill("#search-id", "demo-1");
    await page.click("#search button");
    await page.waitForURL(/#\/e\/counter\/demo-1$/);
    const output = page.locator("#slider-value");
    await expect.poll(() => output.textContent()).toBe(`version ${amounts.length} of ${amounts.length}`);
    expect(await page.locator("#state").textContent()).toContain(`value: ${values.at(-1)}`);
    expect(await page.locator("#timeline li").count()).toBe(amounts.length);
    expect(await page.locator("#timeline li").first().textContent()).toContain('{"by":3}');

    await page.locator("#version-slider").fill("3");
    await expect.poll(() => output.textContent()).toBe(`version 3 of ${amounts.length}`);
    await expect.poll(() => page.locator("#state").textContent()).toContain(`value: ${values[2]}`);
    expect(await page.locator("#diff").textContent()).toContain(`− ${values[1]}`);
    expect(await page.locator("#timeline li.current").getAttribute("data-version")).toBe("3");
    expect(await page.locator("#timers").textContent()).toContain("None.");
    expect(await page.locator("#dedup").textContent()).toContain("Dedup records");
    // Each event shows when its command was committed (recorded with the events by default).
    const stamp = await page.locator("#timeline li time").first().getAttribute("datetime");
    expect(Date.parse(stamp!)).toBeGreaterThan(started);
    await page.screenshot({ path: join(SHOTS, "console-entity.png"), fullPage: true });
  });

  it("links an event to its trace and shows its CloudEvent", async () => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const result = await host.running.host.store.append({
      key: { entityType: "counter", entityId: "traced" },
      expectedVersion: 0,
      events: [{ type: "changed", data: { by: 2 } }],
      logEvents: true,
      checkDedup: [],
      writeDedup: [],
      dedupTtlMs: 60_000,
      meta: [{ time: Date.UTC(2026, 0, 2, 3, 4, 5), traceId: trace, eventId: "ce-9", source: "/sensors/7" }],
    });
    expect(result.kind).toBe("ok");
    await page.goto(`${host.admin}/#/e/counter/traced`);
    const event = page.locator("#timeline li").first();
    await event.locator("a.trace").waitFor();
    expect(await event.locator("a.trace").getAttribute("href")).toBe(`http://jaeger.example/trace/${trace}`);
    expect(await event.locator("time").getAttribute("datetime")).toBe("2026-01-02T03:04:05.000Z");
    expect(await event.locator(".origin").textContent()).toBe("/sensors/7 #ce-9");
    await page.goto(host.admin);
    await page.locator("#dashboard-link").waitFor();
    expect(await page.locator("#dashboard-link").getAttribute("href")).toBe(
      "http://grafana.example/d/knstate",
    );
  });

  it("shows an entity's pending timer", async () => {
    await page.goto(`${host.admin}/#/e/reminder/r1`);
    const timers = page.locator("#timers");
    await expect.poll(() => timers.locator("tbody tr").count()).toBe(1);
    const row = await timers.locator("tbody tr").textContent();
    expect(row).toContain("tea");
    expect(row).toContain("fire");
    expect(row).toContain('"message":"brew"');
  });

  it("shows a replicated entity's values", async () => {
    await page.goto(`${host.admin}/#/e/likes/post-1`);
    const values = page.locator("#values");
    await values.waitFor();
    expect(await values.locator("tbody tr").count()).toBe(1);
    expect(await values.locator("tbody tr").textContent()).toBe("countcounter5");
    expect(await page.locator("#timers").count()).toBe(0);
  });

  it("shows the outbox and retries and drops its dead letters", async () => {
    const store = host.running.host.store as RedisStore;
    const source = new RedisOutboxSource(store.connection as Redis, "ks", "knstate");
    const read = [];
    for (let shard = 0; shard < source.shards; shard++) {
      await source.acquire(shard, "console-test", 60_000);
      for (const stream of await source.streams(shard)) {
        read.push(...(await source.read(shard, stream, "console-test", 1000)));
      }
    }
    const [a, b] = read.filter((e) => e.message.entityId === "demo-1");
    await source.deadLetter(a!, "sink answered 400");
    await source.deadLetter(b!, "sink answered 400");
    await page.goto(`${host.admin}/#/outbox`);
    const dead = page.locator("#dead-letters");
    await expect.poll(() => dead.locator("tbody tr").count()).toBe(2);
    expect(await dead.locator("h2").textContent()).toBe("Dead letters (2)");
    const length = Number(await page.locator("#outbox-length").textContent());
    await page.screenshot({ path: join(SHOTS, "console-outbox.png"), fullPage: true });

    await dead.locator("button.retry").first().click();
    await expect.poll(() => dead.locator("tbody tr").count()).toBe(1);
    expect(Number(await page.locator("#outbox-length").textContent())).toBe(length + 1);

    page.once("dialog", (dialog) => void dialog.accept());
    await dead.locator("button.drop").first().click();
    await expect.poll(() => dead.locator("h2").textContent()).toBe("Dead letters (0)");
    expect(Number(await page.locator("#outbox-length").textContent())).toBe(length + 1);
  });

  it("lists ids of a type by prefix", async () => {
    await page.goto(`${host.admin}/#/t/counter?prefix=order-`);
    await page.locator("ul.ids li").first().waitFor();
    expect(await page.locator("ul.ids li").allTextContents()).toEqual(["order-18", "order-17"]);
    expect(pageErrors).toEqual([]);
  });
});
