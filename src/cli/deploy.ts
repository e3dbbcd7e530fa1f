import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { currentNamespace, KnativeClient, loadKubeConfig, type ServiceStatus } from "../deploy/kube.js";
import { serviceForFunction, type FunctionServiceOptions } from "../deploy/function-service.js";
import { DEPLOY_HELP, DEPLOY_OPTIONS_HELP } from "./deploy-help.js";
import { DEFAULT_IMAGE } from "../deploy/service.js";

type Env = Readonly<Record<string, string | undefined>>;
type Out = (line: string) => void;

export const SERVICE_OPTIONS = {
  image: { type: "string" },
  name: { type: "string" },
  namespace: { type: "string", short: "n" },
  env: { type: "string", multiple: true },
  "redis-secret": { type: "string" },
  "scale-min": { type: "string" },
  "scale-max": { type: "string" },
  target: { type: "string" },
  concurrency: { type: "string" },
  timeout: { type: "string" },
  "function-path": { type: "string" },
  "wait-timeout": { type: "string" },
  "no-wait": { type: "boolean" },
} as const;

/** `knstate manifest|deploy|status|delete`; resolves with the exit code. */
export async function deployCommand(
  command: "manifest" | "deploy" | "status" | "delete",
  args: readonly string[],
  env: Env,
  out: Out,
  err: Out,
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: SERVICE_OPTIONS,
      allowPositionals: true,
    });
    const target = positionals[0];
    if (target === undefined || positionals.length > 1) {
      err(`usage:\n${DEPLOY_HELP}\n\n${DEPLOY_OPTIONS_HELP}`);
      return 2;
    }
    if (command === "status" || command === "delete") {
      const kc = await loadKubeConfig(env);
      const client = new KnativeClient(kc);
      const namespace = values.namespace ?? currentNamespace(kc);
      if (command === "delete") {
        await client.delete(target, namespace);
        out(`deleted service ${namespace}/${target}`);
        return 0;
      }
      printStatus(await client.status(target, namespace), out);
      return 0;
    }
    const options: FunctionServiceOptions = {
      name: values.name,
      namespace: values.namespace,
      image: values.image ?? (command === "manifest" ? DEFAULT_IMAGE : missing("--image")),
      redisSecret: values["redis-secret"],
      env: parseEnv(values.env ?? []),
      scaleMin: whole(values["scale-min"], "--scale-min"),
      scaleMax: whole(values["scale-max"], "--scale-max"),
      target: whole(values.target, "--target"),
      concurrency: whole(values.concurrency, "--concurrency"),
      timeoutSeconds: whole(values.timeout, "--timeout"),
      functionPath: values["function-path"],
    };
    if (command === "manifest") {
      out(stringify(await serviceForFunction(target, options)).trimEnd());
      return 0;
    }
    const kc = await loadKubeConfig(env);
    const namespace = values.namespace ?? currentNamespace(kc);
    const service = await serviceForFunction(target, { ...options, namespace });
    const client = new KnativeClient(kc);
    const name = service.metadata.name;
    out(
      `applying service ${namespace}/${name} (image ${options.image}) to ${kc.getCurrentCluster()!.server}`,
    );
    await client.apply(service, namespace);
    if (values["no-wait"]) return 0;
    const timeoutMs = seconds(values["wait-timeout"] ?? "300s") * 1000;
    const intervalMs = Number(env.KNSTATE_DEPLOY_POLL_MS ?? 1000);
    const status = await client.waitForReady(name, namespace, {
      timeoutMs,
      intervalMs: Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs : 1000,
      progress: (line) => out(`  ${line}`),
    });
    out(`service ${namespace}/${name} is ready at ${status.url ?? "(no URL yet)"}`);
    return 0;
  } catch (error) {
    err(`knstate ${command}: ${describe(error)}`);
    return 1;
  }
}

function printStatus(s: ServiceStatus, out: Out): void {
  out(`service:   ${s.namespace}/${s.name}`);
  out(`url:       ${s.url ?? "-"}`);
  out(
    `ready:     ${s.ready ? `${s.ready.status}${s.ready.reason ? ` (${s.ready.reason})` : ""}` : "Unknown"}`,
  );
  if (s.ready?.message) out(`message:   ${s.ready.message}`);
  out(`revision:  ${s.latestReadyRevision ?? "-"} (latest created: ${s.latestCreatedRevision ?? "-"})`);
  if (s.replicas) out(`replicas:  ${s.replicas.actual ?? "?"} running, ${s.replicas.desired ?? "?"} desired`);
}

function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`--env ${pair}: expected NAME=value`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function whole(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`${flag} ${raw}: expected a whole number`);
  return Number(raw);
}

function seconds(raw: string): number {
  const m = /^(\d+)(s|m)?$/.exec(raw);
  if (!m) throw new Error(`--wait-timeout ${raw}: expected seconds such as 300s or 5m`);
  return Number(m[1]) * (m[2] === "m" ? 60 : 1);
}

function missing(flag: string): never {
  throw new Error(`${flag} is required`);
}

/** Kubernetes API errors carry the Status object in `body`; show its message, not the stack. */
function describe(error: unknown): string {
  const e = error as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === "number" && e.body !== undefined) {
    let body: { message?: string } | undefined;
    try {
      body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as { message?: string };
    } catch {
      body = undefined;
    }
    return `the Kubernetes API answered ${e.code}: ${body?.message ?? JSON.stringify(e.body)}`;
  }
  return e.message ?? String(error);
}
