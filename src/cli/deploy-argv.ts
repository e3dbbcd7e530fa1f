import { parseArgs } from "node:util";
import { describeKubeError } from "../deploy/kube.js";
import { DEFAULT_IMAGE } from "../deploy/service.js";
import type { BackoffPolicy } from "../deploy/trigger.js";
import {
  deleteCommand,
  deployFunction,
  manifestCommand,
  secretCommand,
  statusCommand,
  type Env,
  type Out,
} from "./deploy.js";
import { DEPLOY_HELP, DEPLOY_OPTIONS_HELP } from "./deploy-help.js";

/**
 * argv for the hand-written entry point (src/cli/index.ts): parses the flags of
 * `knstate manifest|deploy|status|delete|secret` into the options objects of ./deploy.ts.
 * A parser such as commander calls those functions directly instead.
 */

export const DEPLOY_OPTIONS = {
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
  public: { type: "boolean" },
  "no-trigger": { type: "boolean" },
  "ping-schedule": { type: "string" },
  broker: { type: "string" },
  retry: { type: "string" },
  "backoff-policy": { type: "string" },
  "backoff-delay": { type: "string" },
  "dead-letter-sink": { type: "string" },
  "events-auth": { type: "string" },
  "oidc-audience": { type: "string" },
  relay: { type: "string" },
  "relay-replicas": { type: "string" },
  "wait-timeout": { type: "string" },
  "no-wait": { type: "boolean" },
  url: { type: "string" },
} as const;

class UsageError extends Error {}

/** `--events-auth off|oidc`; `--oidc-audience` alone implies `oidc`. */
function eventsAuth(value: string | undefined, audience: string | undefined): "off" | "oidc" | undefined {
  if (value === undefined) return audience === undefined ? undefined : "oidc";
  if (value !== "off" && value !== "oidc")
    throw new UsageError(`--events-auth must be off or oidc, got "${value}"`);
  if (value === "off" && audience !== undefined)
    throw new UsageError("--oidc-audience needs --events-auth oidc");
  return value;
}

/** `--relay pod|separate`. */
function relayMode(value: string | undefined): "pod" | "separate" | undefined {
  if (value === undefined || value === "pod" || value === "separate") return value;
  throw new UsageError(`--relay must be pod or separate, got "${value}"`);
}

/** `knstate manifest|deploy|status|delete|secret` from argv; resolves with the exit code. */
export async function deployCommand(
  command: "manifest" | "deploy" | "status" | "delete" | "secret",
  args: readonly string[],
  env: Env,
  out: Out,
  err: Out,
): Promise<number> {
  try {
    const { values: v, positionals } = parseArgs({
      args: [...args],
      options: DEPLOY_OPTIONS,
      allowPositionals: true,
    });
    const target = positionals[0];
    if (target === undefined || positionals.length > 1) throw new UsageError("expected one argument");
    if (command === "secret") {
      if (target !== "redis")
        throw new UsageError(`unknown secret "${target}" (knstate secret redis --url …)`);
      secretCommand({
        kind: "redis",
        url: v.url ?? missing("--url"),
        name: v.name,
        namespace: v.namespace,
        out,
      });
      return 0;
    }
    if (command === "status" || command === "delete") {
      const o = { name: target, namespace: v.namespace, processEnv: env, out };
      await (command === "status" ? statusCommand(o) : deleteCommand(o));
      return 0;
    }
    const options = {
      dir: target,
      name: v.name,
      namespace: v.namespace,
      image: v.image ?? (command === "manifest" ? DEFAULT_IMAGE : missing("--image")),
      redisSecret: v["redis-secret"],
      env: parseEnv(v.env ?? []),
      scaleMin: whole(v["scale-min"], "--scale-min"),
      scaleMax: whole(v["scale-max"], "--scale-max"),
      target: whole(v.target, "--target"),
      concurrency: whole(v.concurrency, "--concurrency"),
      timeoutSeconds: whole(v.timeout, "--timeout"),
      functionPath: v["function-path"],
      public: v.public,
      noTrigger: v["no-trigger"],
      pingSchedule: v["ping-schedule"],
      broker: v.broker,
      retry: whole(v.retry, "--retry"),
      backoffPolicy: v["backoff-policy"] as BackoffPolicy | undefined,
      backoffDelay: v["backoff-delay"],
      deadLetterSink: v["dead-letter-sink"],
      eventsAuth: eventsAuth(v["events-auth"], v["oidc-audience"]),
      oidcAudience: v["oidc-audience"],
      relay: relayMode(v.relay),
      relayReplicas: whole(v["relay-replicas"], "--relay-replicas"),
    };
    if (command === "manifest") {
      await manifestCommand({ ...options, out });
      return 0;
    }
    const poll = Number(env.KNSTATE_DEPLOY_POLL_MS ?? 1000);
    await deployFunction({
      ...options,
      processEnv: env,
      out,
      waitTimeoutSeconds: seconds(v["wait-timeout"] ?? "300s"),
      noWait: v["no-wait"],
      pollMs: Number.isFinite(poll) && poll > 0 ? poll : 1000,
    });
    return 0;
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      err(
        `knstate ${command}: ${(error as Error).message}\nusage:\n${DEPLOY_HELP}\n\n${DEPLOY_OPTIONS_HELP}`,
      );
      return 2;
    }
    err(`knstate ${command}: ${describeKubeError(error)}`);
    return 1;
  }
}

function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env ${pair}: expected NAME=value`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function whole(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} ${raw}: expected a whole number`);
  return Number(raw);
}

function seconds(raw: string): number {
  const m = /^(\d+)(s|m)?$/.exec(raw);
  if (!m) throw new UsageError(`--wait-timeout ${raw}: expected seconds such as 300s or 5m`);
  return Number(m[1]) * (m[2] === "m" ? 60 : 1);
}

function missing(flag: string): never {
  throw new UsageError(`${flag} is required`);
}

/** node:util parseArgs errors: an unknown option, a missing value. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
