import { manifestsForFunction, type FunctionManifestOptions } from "../deploy/function-service.js";
import { currentNamespace, KnativeClient, loadKubeConfig, type ServiceStatus } from "../deploy/kube.js";
import { renderFunctionManifests, renderYaml } from "../deploy/render.js";
import { pingSourceName } from "../deploy/ping-source.js";
import { relayName, relaySinkBindingName } from "../deploy/relay-deployment.js";
import { buildRedisSecret } from "../deploy/secret.js";
import { DEFAULT_IMAGE } from "../deploy/service.js";

/**
 * `knstate manifest | deploy | status | delete | secret`: each a function of one options object
 * (what a command-line parser fills in), throwing an `Error` whose message is the one line to show.
 */

export type Env = Readonly<Record<string, string | undefined>>;
export type Out = (line: string) => void;

export interface ManifestCommandOptions extends FunctionManifestOptions {
  /** The function folder (or module file), as the user typed it: it appears in the header. */
  readonly dir: string;
  readonly out: Out;
}

/** What every command that reaches the cluster is given. */
export interface KubeCommandOptions {
  /** The process environment: `KUBECONFIG`. */
  readonly processEnv: Env;
  readonly out: Out;
}

export interface DeployCommandOptions extends FunctionManifestOptions, KubeCommandOptions {
  readonly dir: string;
  readonly image: string;
  /** How long to wait for Ready (default 300 s); `noWait` skips waiting. */
  readonly waitTimeoutSeconds?: number | undefined;
  readonly noWait?: boolean | undefined;
  /** Poll interval while waiting (default 1000 ms). */
  readonly pollMs?: number | undefined;
}

export interface ServiceCommandOptions extends KubeCommandOptions {
  readonly name: string;
  readonly namespace?: string | undefined;
}

export interface SecretCommandOptions {
  /** `redis`: the Secret whose key `url` is `REDIS_URL`. */
  readonly kind: "redis";
  readonly url: string;
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly out: Out;
}

/**
 * The flags of `knstate manifest` after `--env`, each with the option it sets, in the order the
 * header lists them: a value is printed after its flag, `true` prints the flag alone.
 */
const HEADER_FLAGS = [
  ["redis-secret", "redisSecret"],
  ["scale-min", "scaleMin"],
  ["scale-max", "scaleMax"],
  ["target", "target"],
  ["concurrency", "concurrency"],
  ["timeout", "timeoutSeconds"],
  ["function-path", "functionPath"],
  ["public", "public"],
  ["no-trigger", "noTrigger"],
  ["ping-schedule", "pingSchedule"],
  ["broker", "broker"],
  ["retry", "retry"],
  ["backoff-policy", "backoffPolicy"],
  ["backoff-delay", "backoffDelay"],
  ["dead-letter-sink", "deadLetterSink"],
  ["events-auth", "eventsAuth"],
  ["oidc-audience", "oidcAudience"],
  ["relay", "relay"],
  ["relay-replicas", "relayReplicas"],
] as const satisfies ReadonlyArray<readonly [string, keyof FunctionManifestOptions]>;

/** The command line that reproduces these options: the header of the printed manifests. */
export function manifestCommandLine(o: Omit<ManifestCommandOptions, "out">): string {
  const args = ["knstate manifest", o.dir];
  const flag = (name: string, value: string | number | boolean | undefined) => {
    if (value === true) args.push(`--${name}`);
    else if (value !== undefined && value !== false) args.push(`--${name}`, String(value));
  };
  if (o.image !== DEFAULT_IMAGE) flag("image", o.image);
  flag("name", o.name);
  flag("namespace", o.namespace);
  for (const [k, v] of Object.entries(o.env ?? {})) flag("env", `${k}=${v}`);
  for (const [name, key] of HEADER_FLAGS) flag(name, o[key]);
  return args.join(" ");
}

/** Prints the function's Knative Service and Trigger as YAML. */
export async function manifestCommand(options: ManifestCommandOptions): Promise<void> {
  const { out, dir, ...rest } = options;
  const manifests = await manifestsForFunction(dir, rest);
  out(renderFunctionManifests(manifests, manifestCommandLine(options)).trimEnd());
}

/**
 * Server-side applies the Service, its Trigger, (for a function with timers) its PingSource and
 * (`--relay separate`) the relay Deployment and its SinkBinding, then waits for each to be Ready
 * (the Deployment: every replica available), printing progress.
 */
export async function deployFunction(options: DeployCommandOptions): Promise<void> {
  const { out, dir, processEnv, waitTimeoutSeconds, noWait, pollMs, ...rest } = options;
  const kc = await loadKubeConfig(processEnv);
  const namespace = options.namespace ?? currentNamespace(kc);
  const { service, trigger, routing, pingSource, relay } = await manifestsForFunction(dir, {
    ...rest,
    namespace,
  });
  const client = new KnativeClient(kc);
  const name = service.metadata.name;
  out(`applying service ${namespace}/${name} (image ${options.image}) to ${kc.getCurrentCluster()!.server}`);
  await client.apply(service, namespace);
  if (trigger) {
    out(
      `applying trigger ${namespace}/${trigger.metadata.name} (broker ${trigger.spec.broker}: ${routing.commandTypes.join(", ")})`,
    );
    await client.apply(trigger, namespace);
  }
  if (pingSource) {
    out(
      `applying pingsource ${namespace}/${pingSource.metadata.name} (schedule "${pingSource.spec.schedule}": wakes ${name} for its timers)`,
    );
    await client.apply(pingSource, namespace);
  }
  if (relay) {
    const { deployment, sinkBinding } = relay;
    out(
      `applying deployment ${namespace}/${deployment.metadata.name} (knstate relay, ${deployment.spec.replicas} replicas) and its sinkbinding (broker ${sinkBinding.spec.sink.ref.name})`,
    );
    await client.apply(deployment, namespace);
    await client.apply(sinkBinding, namespace);
  }
  if (noWait) return;
  const wait = {
    timeoutMs: (waitTimeoutSeconds ?? 300) * 1000,
    intervalMs: pollMs ?? 1000,
    progress: (line: string) => out(`  ${line}`),
  };
  const status = await client.waitForReady(name, namespace, wait);
  out(`service ${namespace}/${name} is ready at ${status.url ?? "(no URL yet)"}`);
  if (trigger) {
    await client.waitForEventingReady("Trigger", trigger.metadata.name, namespace, wait);
    out(`trigger ${namespace}/${trigger.metadata.name} is ready: broker ${trigger.spec.broker} → ${name}`);
  }
  if (pingSource) {
    await client.waitForEventingReady("PingSource", pingSource.metadata.name, namespace, wait);
    out(
      `pingsource ${namespace}/${pingSource.metadata.name} is ready: "${pingSource.spec.schedule}" → ${name}`,
    );
  }
  if (relay) {
    const binding = relay.sinkBinding.metadata.name;
    await client.waitForEventingReady("SinkBinding", binding, namespace, wait);
    out(
      `sinkbinding ${namespace}/${binding} is ready: ${relay.deployment.metadata.name} publishes ${name}'s outbox`,
    );
    // After the binding: it changes the Deployment's pod template (K_SINK), a rollout of its own.
    const relayed = relay.deployment.metadata.name;
    const rolled = await client.waitForAvailable(relayed, namespace, wait);
    out(
      `deployment ${namespace}/${relayed} is available: ${rolled.available}/${rolled.replicas} relay replicas`,
    );
  }
}

export async function statusCommand(o: ServiceCommandOptions): Promise<void> {
  const kc = await loadKubeConfig(o.processEnv);
  printStatus(await new KnativeClient(kc).status(o.name, o.namespace ?? currentNamespace(kc)), o.out);
}

/** Deletes the Service and the Trigger and PingSource `knstate deploy` made for it. */
export async function deleteCommand(o: ServiceCommandOptions): Promise<void> {
  const kc = await loadKubeConfig(o.processEnv);
  const namespace = o.namespace ?? currentNamespace(kc);
  const client = new KnativeClient(kc);
  await client.delete(o.name, namespace);
  o.out(`deleted service ${namespace}/${o.name}`);
  if (await client.deleteEventing("Trigger", o.name, namespace))
    o.out(`deleted trigger ${namespace}/${o.name}`);
  const ping = pingSourceName(o.name);
  if (await client.deleteEventing("PingSource", ping, namespace))
    o.out(`deleted pingsource ${namespace}/${ping}`);
  for (const [kind, what] of [
    ["SinkBinding", relaySinkBindingName(o.name)],
    ["Deployment", relayName(o.name)],
  ] as const) {
    if (await client.deleteEventing(kind, what, namespace))
      o.out(`deleted ${kind.toLowerCase()} ${namespace}/${what}`);
  }
}

/** Prints a Secret manifest (`kubectl apply -f -` it; keep it out of version control). */
export function secretCommand(o: SecretCommandOptions): void {
  const secret = buildRedisSecret(o);
  const comment = `REDIS_URL for knstate functions (--redis-secret ${secret.metadata.name}). Holds a password: do not commit it.`;
  o.out(renderYaml([{ comment, object: secret }]).trimEnd());
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
