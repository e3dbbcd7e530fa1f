/**
 * Rules Knative's admission webhook enforces on a Service but its CRD schema does not express
 * (knative/serving `pkg/apis/serving/k8s_validation.go`, `v1/revision_validation.go`), plus the
 * security settings every knstate container must carry. Returns one line per problem.
 */

/** Ports queue-proxy and the activator use inside the pod. */
export const RESERVED_PORTS: readonly number[] = [8008, 8012, 8013, 8022, 9090, 9091];
const RESERVED_ENV = new Set(["PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"]);
const PORT_NAMES = new Set(["", "http1", "h2c"]);
/** Container fields Knative accepts (`pkg/apis/serving/fieldmask.go` ContainerMask). */
const CONTAINER_FIELDS = new Set([
  "name",
  "args",
  "command",
  "env",
  "envFrom",
  "workingDir",
  "image",
  "imagePullPolicy",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "ports",
  "resources",
  "securityContext",
  "volumeMounts",
  "terminationMessagePath",
  "terminationMessagePolicy",
]);
const INTEGER_ANNOTATIONS = [
  "autoscaling.knative.dev/min-scale",
  "autoscaling.knative.dev/max-scale",
  "autoscaling.knative.dev/target",
  "autoscaling.knative.dev/initial-scale",
  "autoscaling.knative.dev/activation-scale",
];

type Json = Record<string, unknown>;

export function checkKnativeService(service: unknown): string[] {
  const problems: string[] = [];
  const s = service as Json;
  const name = ((s.metadata as Json | undefined)?.name as string | undefined) ?? "(unnamed)";
  const at = (where: string) => `${name}: ${where}`;
  const template = (s.spec as Json | undefined)?.template as Json | undefined;
  const spec = template?.spec as Json | undefined;
  if (!spec) return [at("spec.template.spec is missing")];
  const annotations = ((template?.metadata as Json | undefined)?.annotations ?? {}) as Record<
    string,
    unknown
  >;
  for (const key of INTEGER_ANNOTATIONS) {
    const value = annotations[key];
    if (value !== undefined && (typeof value !== "string" || !/^\d+$/.test(value))) {
      problems.push(
        at(`annotation ${key} must be a string holding a whole number, not ${JSON.stringify(value)}`),
      );
    }
  }
  const min = Number(annotations["autoscaling.knative.dev/min-scale"] ?? 0);
  const max = Number(annotations["autoscaling.knative.dev/max-scale"] ?? 0);
  if (max !== 0 && min > max) problems.push(at("min-scale exceeds max-scale"));
  const timeout = spec.timeoutSeconds;
  if (timeout !== undefined && (typeof timeout !== "number" || timeout < 0 || timeout > 600)) {
    problems.push(at(`timeoutSeconds must be 0-600, not ${JSON.stringify(timeout)}`));
  }
  const cc = spec.containerConcurrency;
  if (cc !== undefined && (typeof cc !== "number" || cc < 0 || cc > 1000)) {
    problems.push(at(`containerConcurrency must be 0-1000, not ${JSON.stringify(cc)}`));
  }
  const containers = (spec.containers ?? []) as Json[];
  if (containers.length === 0) problems.push(at("no containers"));
  const declaredPorts = containers.flatMap((c) => (c.ports ?? []) as Json[]);
  if (declaredPorts.length > 1)
    problems.push(at(`declares ${declaredPorts.length} ports; Knative allows exactly one`));
  for (const [i, c] of containers.entries()) {
    const where = `containers[${i}]`;
    if (c.name === "queue-proxy") problems.push(at(`${where}: the name queue-proxy is reserved`));
    for (const field of Object.keys(c)) {
      if (!CONTAINER_FIELDS.has(field)) problems.push(at(`${where}.${field} is not allowed by Knative`));
    }
    const ports = (c.ports ?? []) as Json[];
    for (const port of ports) {
      if (RESERVED_PORTS.includes(port.containerPort as number)) {
        problems.push(at(`${where}: port ${String(port.containerPort)} is reserved by Knative`));
      }
      if (!PORT_NAMES.has((port.name as string | undefined) ?? "")) {
        problems.push(at(`${where}: port name ${JSON.stringify(port.name)} must be "", http1 or h2c`));
      }
      if (port.hostPort !== undefined) problems.push(at(`${where}: hostPort must not be set`));
    }
    for (const env of (c.env ?? []) as Json[]) {
      if (RESERVED_ENV.has(env.name as string))
        problems.push(at(`${where}: env ${String(env.name)} is set by Knative`));
    }
    const userPort = (ports[0]?.containerPort as number | undefined) ?? 8080;
    for (const kind of ["readinessProbe", "livenessProbe", "startupProbe"] as const) {
      const probe = c[kind] as Json | undefined;
      if (!probe) continue;
      const handler = (probe.httpGet ?? probe.tcpSocket ?? probe.grpc) as Json | undefined;
      if (!handler && !probe.exec)
        problems.push(at(`${where}.${kind} needs httpGet, tcpSocket, grpc or exec`));
      if (handler?.port !== undefined && handler.port !== userPort && handler.port !== ports[0]?.name) {
        problems.push(at(`${where}.${kind} must target the user port ${userPort}`));
      }
      if (kind === "readinessProbe" && probe.periodSeconds === 0) {
        for (const field of ["failureThreshold", "timeoutSeconds"]) {
          if (probe[field] !== undefined) {
            problems.push(at(`${where}.readinessProbe: ${field} is not allowed with periodSeconds 0`));
          }
        }
      }
    }
    problems.push(...checkSecurityContext(c, `${name}: ${where}`));
  }
  return problems;
}

/** The hardening every container gets: non-root, read-only root, no privilege escalation, no capabilities. */
export function checkSecurityContext(container: Json, where: string): string[] {
  const sc = container.securityContext as Json | undefined;
  if (!sc) return [`${where}: securityContext is missing`];
  const problems: string[] = [];
  if (sc.runAsNonRoot !== true) problems.push(`${where}: securityContext.runAsNonRoot must be true`);
  if (sc.runAsUser === 0) problems.push(`${where}: securityContext.runAsUser must not be 0`);
  if (sc.readOnlyRootFilesystem !== true)
    problems.push(`${where}: securityContext.readOnlyRootFilesystem must be true`);
  if (sc.allowPrivilegeEscalation !== false) {
    problems.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
  }
  const drop = ((sc.capabilities as Json | undefined)?.drop ?? []) as string[];
  if (!drop.includes("ALL")) problems.push(`${where}: securityContext.capabilities.drop must include ALL`);
  if ((sc.seccompProfile as Json | undefined)?.type !== "RuntimeDefault") {
    problems.push(`${where}: securityContext.seccompProfile.type must be RuntimeDefault`);
  }
  return problems;
}
