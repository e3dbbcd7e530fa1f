import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import {
  cleanEnv,
  eventually,
  init,
  install,
  pack,
  postJson,
  scratch,
  start,
  type Started,
} from "../support/project.js";

// `knstate dev` on a scaffolded project, as a user runs it (`npm run dev`). One install for the file.
const work = scratch("dev");
const dir = join(work, "app");
const source = join(dir, "functions/hello/index.ts");
let dev: Started | undefined;
let port = 0;

beforeAll(async () => {
  const created = init(work, dir, ["--template", "empty", "--knstate", pack(work)]);
  expect(created.code, created.stderr).toBe(0);
  install(dir);
  port = await freePort();
}, 600_000);
afterAll(async () => {
  await dev?.stop();
  rmSync(work, { recursive: true, force: true });
});

const greet = async () => (await postJson(`http://127.0.0.1:${port}/hello/hello`, { name: "Ada" }))?.body;

describe("knstate dev", () => {
  it("serves the TypeScript function, reloads an edit in the same process, keeps the old version on a syntax error", async () => {
    dev = start("npm", ["run", "dev"], dir, cleanEnv({ PORT: String(port) }));
    await dev.waitFor(/knstate dev: serving functions\/hello on http:\/\/localhost:\d+\//);
    // Printed once: a ready-to-paste send and curl line per command.
    expect(dev.output()).toContain(
      `knstate send http://localhost:${port}/ --type com.example.hello.hello --data '{}'`,
    );
    expect(dev.output()).toContain(`curl -i -X POST localhost:${port}/hello/hello`);
    expect(await greet()).toBe('{"greeting":"Hello, Ada!"}');
    const pid = dev.child.pid;

    writeFileSync(source, readFileSync(source, "utf8").replace("greeting: `Hello, ", "greeting: `Howdy, "));
    await eventually(async () => (await greet()) === '{"greeting":"Howdy, Ada!"}');
    expect(dev.child.pid).toBe(pid);
    expect(dev.child.exitCode).toBeNull();
    expect(dev.output()).toMatch(/knstate dev: reloaded/);

    appendFileSync(source, "\nexport const broken = (;\n");
    await dev.waitFor(/this version does not load \(above\); the previous one keeps serving/);
    expect(dev.output()).toMatch(/ERROR: .*Unexpected|ERROR: Expected/);
    expect(await greet()).toBe('{"greeting":"Howdy, Ada!"}');
    expect(dev.output().match(/knstate send http/g)).toHaveLength(1);
  }, 300_000);
});
