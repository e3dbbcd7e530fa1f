import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGE_UID } from "../../src/deploy/service.js";
import { ROOT } from "../support/host.js";

/** The Dockerfile and its build context: the image the Knative manifests run. */

type Json = Record<string, unknown>;

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

  it("runs as the non-root uid the manifests declare, production dependencies only", () => {
    expect(runtime).toMatch(new RegExp(`^USER ${IMAGE_UID}:${IMAGE_UID}$`, "m"));
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/dist/src/cli/bin.js", "serve"]');
    expect(dockerfile).not.toMatch(/^HEALTHCHECK/m);
    expect(dockerfile).toMatch(
      /^FROM node:(22|24)-bookworm-slim|^ARG NODE_IMAGE=node:(22|24)-bookworm-slim/m,
    );
  });

  it("ships the runtime dependencies the compiled code imports", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Json;
      peerDependencies: Json;
      peerDependenciesMeta: Json;
    };
    for (const name of ["zod", "ioredis", "yaml", "jose", "lru-cache", "commander"]) {
      expect(pkg.dependencies).toHaveProperty([name]);
    }
    // Only deploy/status/delete use the Kubernetes client: an optional peer, never in an image.
    expect(pkg.dependencies).not.toHaveProperty(["@kubernetes/client-node"]);
    expect(pkg.peerDependencies).toHaveProperty(["@kubernetes/client-node"]);
    expect(pkg.peerDependenciesMeta).toHaveProperty(["@kubernetes/client-node"], { optional: true });
  });

  it("keeps tests, sources of other tools and local state out of the build context", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["**/node_modules", "dist", "test", ".git"]) expect(ignore).toContain(entry);
  });
});
