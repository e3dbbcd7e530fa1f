import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/host.js";
import { freePort } from "../support/ports.js";
import { cleanEnv, run, scratch, start, type Started } from "../support/project.js";

const BIN = join(ROOT, "dist/src/cli/bin.js");
const knstate = (...args: string[]) => run(process.execPath, [BIN, ...args], ROOT);

describe("knstate CLI", () => {
  it.each(["serve", "relay", "send", "manifest", "deploy", "status", "delete", "init", "dev"])(
    "%s --help prints its usage and exits 0",
    (command) => {
      const r = knstate(command, "--help");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: knstate ${command} `, "m"));
      expect(r.stderr).toBe("");
    },
  );

  it("lists the commands with --help, and exits 2 without a command", () => {
    const help = knstate("--help");
    expect(help.code).toBe(0);
    for (const command of ["serve", "relay", "send", "init", "dev", "manifest", "deploy"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    }
    expect(knstate().code).toBe(2);
    const unknown = knstate("sevre");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'sevre'/);
  });

  it("names the valid options after an unknown one, exit 2", () => {
    const send = knstate("send", "http://127.0.0.1:1/", "--type", "a.b.c", "--bogus");
    expect(send.code).toBe(2);
    expect(send.stderr).toContain("unknown option '--bogus'");
    expect(send.stderr).toMatch(/valid options: .*--subject.*--data/);
    const serve = knstate("serve", "--prot", "1");
    expect(serve.code).toBe(2);
    expect(serve.stderr).toMatch(/valid options: .*--port/);
    const manifest = knstate("manifest", join(ROOT, "functions/counter"), "--imag", "x");
    expect(manifest.code).toBe(2);
    expect(manifest.stderr).toMatch(/unknown option --imag; valid options: --image/);
  });

  it("reports a closed port in one line, exit 1", () => {
    const r = knstate("send", "http://127.0.0.1:1/", "--type", "com.example.counter.increment");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("knstate send: cannot connect to http://127.0.0.1:1/: connection refused\n");
    expect(r.stdout).toBe("");
  });

  it("refuses data that is not JSON and a URL that is not http, exit 2", () => {
    expect(knstate("send", "http://127.0.0.1:1/", "--type", "t", "--data", "{nope").code).toBe(2);
    const notHttp = knstate("send", "ftp://example.com/", "--type", "t");
    expect(notHttp.code).toBe(2);
    expect(notHttp.stderr).toMatch(/is not an http:\/\/ or https:\/\/ URL/);
  });

  it("init: a bad name or template is a usage error, and nothing is written", () => {
    const parent = scratch("cli-init");
    try {
      const name = knstate("init", join(parent, "a"), "--name", "Not_A_Name");
      expect(name.code).toBe(2);
      expect(name.stderr).toMatch(/--name Not_A_Name: use lower-case letters/);
      const template = knstate("init", join(parent, "b"), "--template", "nope");
      expect(template.code).toBe(2);
      expect(template.stderr).toMatch(/Allowed choices are counter, cart, empty/);
      mkdirSync(join(parent, "c"));
      writeFileSync(join(parent, "c", "x"), "");
      expect(knstate("init", join(parent, "c")).code).toBe(2);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  describe("send to a running host", () => {
    let host: Started;
    let url = "";
    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}/`;
      host = start(
        process.execPath,
        [
          BIN,
          "serve",
          "dist/functions/counter",
          "--port",
          String(port),
          "--metrics-port",
          "0",
          "--admin-port",
          "0",
        ],
        ROOT,
        cleanEnv(),
      );
      await host.waitFor(/knstate listening/);
    }, 120_000);
    afterAll(async () => {
      expect(await host.stop()).toBe(0);
    });

    it("prints the reply and exits 0 for 2xx, 1 for a 4xx answer", () => {
      const ok = knstate(
        "send",
        url,
        "--type",
        "com.example.counter.increment",
        "-s",
        "c9",
        "-d",
        '{"by":4}',
      );
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^200 OK\nce-specversion: 1\.0\n/);
      expect(ok.stdout).toMatch(/^\{"value":4\}$/m);
      const structured = knstate(
        "send",
        url,
        "--type",
        "com.example.counter.get",
        "-s",
        "c9",
        "-m",
        "structured",
      );
      expect(structured.code).toBe(0);
      expect(structured.stdout).toContain('"value":4');
      const invalid = knstate(
        "send",
        url,
        "--type",
        "com.example.counter.increment",
        "-s",
        "c9",
        "-d",
        '{"by":"x"}',
      );
      expect(invalid.code).toBe(1);
      expect(invalid.stdout).toMatch(/^400 Bad Request$/m);
    });
  });
});
