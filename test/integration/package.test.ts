import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageMajor, imageNode, withNodeFirst } from "../support/image-node.js";
import { freePort } from "../support/ports.js";
import { cleanEnv, init, install, must, pack, run, scratch, start, treeSize } from "../support/project.js";

// `npm pack`, `knstate init` into a folder outside the repository, `npm install` there, and the
// scaffold's own scripts. Slow (npm installs): one tarball for the file.
const work = scratch("package");
let tarball = "";
beforeAll(() => {
  tarball = pack(work);
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MiB = 1024 * 1024;

/** `npm test`, then `npm start` and one CloudEvent sent with `knstate send`, on the Node `env` puts first. */
async function testAndServe(
  dir: string,
  env: NodeJS.ProcessEnv,
  type: string,
  subject: string[],
  data: string,
  reply: RegExp,
) {
  const tested = must("npm", ["test"], dir, env);
  // TAP on Node 20 when not on a terminal ("# fail 0"), the spec reporter on later Nodes ("ℹ fail 0").
  expect(tested.stdout).toMatch(/^(?:# |ℹ )fail 0$/m);
  expect(tested.stdout).toMatch(/^(?:# |ℹ )pass [1-9]/m);
  const port = await freePort();
  const server = start(
    "npm",
    ["start"],
    dir,
    cleanEnv({ PORT: String(port), METRICS_PORT: "0", ADMIN_PORT: "0" }),
  );
  try {
    await server.waitFor(/knstate listening/);
    const knstate = join(dir, "node_modules/.bin/knstate");
    const url = `http://127.0.0.1:${port}/`;
    const sent = run(knstate, ["send", url, "--type", type, ...subject, "--data", data], dir, env);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^200 OK$/m);
    expect(sent.stdout).toMatch(new RegExp(`^ce-type: ${type.replaceAll(".", "\\.")}\\.reply$`, "m"));
    expect(sent.stdout).toMatch(reply);
    const unknown = run(knstate, ["send", url, "--type", `${type}-nope`, ...subject], dir, env);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/^400 Bad Request$/m);
  } finally {
    await server.stop();
  }
}

/**
 * Scaffolds, installs, checks that the scaffold's knative/ file is what `npm run manifest`
 * writes (the Service and its Trigger), builds, then tests, starts and sends one CloudEvent on
 * this machine's Node and on the container image's.
 */
async function roundTrip(
  template: string,
  name: string,
  type: string,
  subject: string[],
  data: string,
  reply: RegExp,
) {
  const dir = join(work, template);
  const created = init(work, dir, ["--template", template, "--knstate", tarball]);
  expect(created.code, created.stderr).toBe(0);
  install(dir);
  const manifests = join(dir, `knative/${name}.yaml`);
  const scaffolded = readFileSync(manifests, "utf8");
  expect(scaffolded).toMatch(/^kind: Service$/m);
  expect(scaffolded).toMatch(/^kind: Trigger$/m);
  expect(scaffolded).toContain(`type: ${type}\n`);
  must("npm", ["run", "manifest"], dir);
  expect(readFileSync(manifests, "utf8")).toBe(scaffolded);
  must("npm", ["run", "build"], dir);
  await testAndServe(dir, cleanEnv(), type, subject, data, reply);
  const node = imageNode("the scaffold's npm test and npm start");
  if (node !== undefined) {
    const env = withNodeFirst(node, cleanEnv());
    expect(must("node", ["--version"], dir, env).stdout).toMatch(new RegExp(`^v${imageMajor}\\.`));
    await testAndServe(dir, env, type, subject, data, reply);
  }
  return dir;
}

describe("the packed package in a new project", () => {
  it("ships compiled code with declarations, resolvable source maps, LICENSE and an executable bin", () => {
    const dir = join(work, "unpacked");
    must("mkdir", ["-p", dir], work);
    must("tar", ["xzf", tarball, "-C", dir], work);
    const pkg = join(dir, "package");
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as Record<string, object>;
    expect(manifest["license"]).toBe("Apache-2.0");
    expect(readFileSync(join(pkg, "LICENSE"), "utf8")).toContain(
      "Apache License\n                           Version 2.0",
    );
    expect(manifest["repository"]).toBeDefined();
    expect(Object.keys(manifest["exports"] ?? {})).toEqual([".", "./testkit"]);
    expect(manifest["dependencies"]).not.toHaveProperty(["@kubernetes/client-node"]);
    for (const file of ["dist/src/index.d.ts", "dist/src/testkit/index.d.ts", "dist/src/cli/bin.js"]) {
      expect(existsSync(join(pkg, file)), file).toBe(true);
    }
    const map = join(pkg, "dist/src/cli/send.js.map");
    const { sources } = JSON.parse(readFileSync(map, "utf8")) as { sources: string[] };
    for (const source of sources) expect(existsSync(resolve(dirname(map), source)), source).toBe(true);
    expect(readFileSync(join(pkg, "dist/src/cli/bin.js"), "utf8")).toMatch(/^#!\/usr\/bin\/env node/);
  });

  it("counter: npm test, npm run build && npm start, knstate send gets the reply (on this Node and the image's); production install ≤ 40 MiB", async () => {
    const dir = await roundTrip(
      "counter",
      "counter",
      "com.example.counter.increment",
      ["--subject", "c1"],
      '{"by":2}',
      /^\{"value":2\}$/m,
    );
    expect(statSync(join(dir, "node_modules/.bin/knstate")).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(dir, "knative/counter.yaml"), "utf8")).toMatch(/^kind: Service$/m);
    // What an image gets: production dependencies only.
    must("npm", ["prune", "--omit=dev", "--no-audit", "--no-fund"], dir);
    expect(existsSync(join(dir, "node_modules/@kubernetes/client-node"))).toBe(false);
    expect(existsSync(join(dir, "node_modules/tsx"))).toBe(false);
    const size = treeSize(join(dir, "node_modules"));
    expect(size / MiB).toBeLessThanOrEqual(40);
  }, 900_000);

  it("empty: the same with the smallest template", async () => {
    await roundTrip(
      "empty",
      "hello",
      "com.example.hello.hello",
      [],
      '{"name":"Ada"}',
      /^\{"greeting":"Hello, Ada!"\}$/m,
    );
  }, 900_000);

  it("init refuses a folder that is not empty, with exit code 2", () => {
    const dir = join(work, "taken");
    must("mkdir", ["-p", dir], work);
    writeFileSync(join(dir, "notes.txt"), "mine\n");
    const r = init(work, dir, ["--knstate", tarball]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not empty: choose a new or empty folder");
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("mine\n");
  });
});
