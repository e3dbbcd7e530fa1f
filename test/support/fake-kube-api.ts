import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploymentProgress, eventingProgress, type Obj } from "./fake-kube-controllers.js";

/**
 * A stand-in for the Kubernetes API server, speaking exactly the requests knstate's deploy
 * commands make for Knative Services and Triggers: server-side apply (PATCH), GET, DELETE, GET of a
 * Revision, and API discovery for clients that ask. It records every request and answers like the API server would; Knative's
 * controllers (and the Deployment controller, fake-kube-controllers.ts) are imitated by turning
 * an object Ready after `readyAfterReads` reads.
 */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

export interface FakeKubeOptions {
  /** GETs of a Service before it reports Ready=True (default 2). */
  readonly readyAfterReads?: number;
  /** Report Ready=False with this reason and message instead of becoming ready. */
  readonly fail?: { readonly reason: string; readonly message: string };
  /** Never become ready. */
  readonly never?: boolean;
  /** Report a Trigger Ready=False with this reason and message (e.g. its Broker does not exist). */
  readonly triggerFail?: { readonly reason: string; readonly message: string };
  /** Report a Deployment's Progressing=False with this reason and message (its deadline passed). */
  readonly deploymentFail?: { readonly reason: string; readonly message: string };
  /** Pods of a Deployment that ever become available (default: all of them). */
  readonly deploymentAvailable?: number;
}

export interface FakeKubeApi {
  readonly url: string;
  /** A kubeconfig file whose current context points here, with namespace `demo`. */
  readonly kubeconfig: string;
  readonly requests: RecordedRequest[];
  readonly objects: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

const TOKEN = "fake-token";

export async function startFakeKubeApi(options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Obj>();
  const reads = new Map<string, number>();

  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      let body: unknown = undefined;
      if (raw !== "") {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers["content-type"],
        accept: req.headers.accept,
        authorization: req.headers.authorization,
        body,
      });
      handle(req, res, url, body);
    });
  });

  const handle = (req: IncomingMessage, res: ServerResponse, url: URL, body: unknown) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return status(res, 401, "Unauthorized", "no token");
    if (req.method === "GET" && url.pathname === "/apis/serving.knative.dev/v1") {
      return json(res, 200, {
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: "serving.knative.dev/v1",
        resources: [
          {
            name: "services",
            singularName: "service",
            namespaced: true,
            kind: "Service",
            verbs: ["get", "patch", "delete"],
          },
          { name: "revisions", singularName: "revision", namespaced: true, kind: "Revision", verbs: ["get"] },
        ],
      });
    }
    const m =
      /^\/apis\/([a-z.]+)\/v1\/namespaces\/([^/]+)\/(services|revisions|triggers|pingsources|sinkbindings|deployments)\/([^/]+)$/.exec(
        url.pathname,
      );
    const groupOf = {
      services: "serving.knative.dev",
      revisions: "serving.knative.dev",
      triggers: "eventing.knative.dev",
      pingsources: "sources.knative.dev",
      sinkbindings: "sources.knative.dev",
      deployments: "apps",
    };
    if (!m || groupOf[m[3] as keyof typeof groupOf] !== m[1]) {
      return status(res, 404, "NotFound", `the server could not find the requested resource`);
    }
    const [, group, namespace, resource, name] = m as unknown as [string, string, string, string, string];
    const notFound = `${resource}.${group} "${name}" not found`;
    const key = `${namespace}/${resource}/${name}`;
    if (resource === "revisions" && req.method === "GET") {
      const service = [...objects.values()].find((o) => o.status?.latestReadyRevisionName === name);
      if (!service) return status(res, 404, "NotFound", `revisions.serving.knative.dev "${name}" not found`);
      return json(res, 200, {
        apiVersion: "serving.knative.dev/v1",
        kind: "Revision",
        metadata: { name, namespace },
        status: { actualReplicas: 1, desiredReplicas: 1 },
      });
    }
    if (req.method === "PATCH") {
      if (req.headers["content-type"] !== "application/apply-patch+yaml") {
        return status(res, 415, "UnsupportedMediaType", `the body of the request was in an unknown format`);
      }
      if (url.searchParams.get("fieldManager") === null) {
        return status(
          res,
          422,
          "Invalid",
          "PATCH, fieldManager: Required value: is required for apply patch",
        );
      }
      const applied = body as Obj;
      const previous = objects.get(key);
      const generation = ((previous?.metadata.generation as number | undefined) ?? 0) + 1;
      const object: Obj = {
        ...applied,
        metadata: { ...applied.metadata, namespace, generation, uid: "00000000-0000-0000-0000-000000000001" },
        status: {
          observedGeneration: previous ? previous.metadata.generation : undefined,
          conditions: [
            {
              type: "Ready",
              status: "Unknown",
              reason: "RevisionMissing",
              message: "Configuration is waiting for a Revision to become ready.",
            },
          ],
          latestCreatedRevisionName: `${name}-${String(generation).padStart(5, "0")}`,
        },
      };
      objects.set(key, object);
      reads.set(key, 0);
      return json(res, previous ? 200 : 201, object);
    }
    const object = objects.get(key);
    if (!object) return status(res, 404, "NotFound", notFound);
    if (req.method === "GET") {
      const count = (reads.get(key) ?? 0) + 1;
      reads.set(key, count);
      if (resource === "triggers" || resource === "pingsources" || resource === "sinkbindings")
        eventingProgress(options, object, count, namespace, name);
      else if (resource === "deployments") deploymentProgress(options, object, count);
      else progress(object, count, namespace, name);
      return json(res, 200, object);
    }
    if (req.method === "DELETE") {
      objects.delete(key);
      return json(res, 200, {
        kind: "Status",
        apiVersion: "v1",
        status: "Success",
        details: { name, kind: resource },
      });
    }
    return status(res, 405, "MethodNotAllowed", `${req.method} is not supported`);
  };

  const progress = (object: Obj, count: number, namespace: string, name: string) => {
    const generation = object.metadata.generation as number;
    const s = object.status!;
    s.observedGeneration = generation;
    if (options.fail) {
      s.conditions = [{ type: "Ready", status: "False", ...options.fail }];
    } else if (!options.never && count >= (options.readyAfterReads ?? 2)) {
      s.conditions = [{ type: "Ready", status: "True" }];
      s.url = `http://${name}.${namespace}.127.0.0.1.sslip.io`;
      s.latestReadyRevisionName = s.latestCreatedRevisionName;
    } else {
      s.conditions = [
        { type: "Ready", status: "Unknown", reason: "Deploying", message: "waiting for the first pod" },
      ];
    }
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), "knstate-kube-"));
  const kubeconfig = join(dir, "config");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "  - name: fake",
      "    cluster:",
      `      server: ${url}`,
      // The stand-in speaks plain HTTP on loopback; the client only allows that with this set.
      "      insecure-skip-tls-verify: true",
      "users:",
      "  - name: tester",
      "    user:",
      `      token: ${TOKEN}`,
      "contexts:",
      "  - name: fake",
      "    context: { cluster: fake, user: tester, namespace: demo }",
      "current-context: fake",
      "",
    ].join("\n"),
  );
  return {
    url,
    kubeconfig,
    requests,
    objects,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  });
}
