import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";

/** The Knative CRDs, copied verbatim; provenance and license in the folder's NOTICE and LICENSE. */
const SCHEMAS = fileURLToPath(new URL("../fixtures/knative-crds", import.meta.url));

type Json = Record<string, unknown>;

/** JSON Schema of one CRD version, without the `x-kubernetes-*` extensions draft-07 does not know. */
function crdSchema(file: string, version: string): Json {
  const crd = parse(readFileSync(join(SCHEMAS, file), "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Json } }[] };
  };
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${file} has no version ${version}`);
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !k.startsWith("x-kubernetes-"))
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  return strip(v.schema.openAPIV3Schema) as Json;
}

/** A validator per `apiVersion kind` (e.g. `serving.knative.dev/v1 Service`). */
export function validators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return new Map([
    ["serving.knative.dev/v1 Service", ajv.compile(crdSchema("service.yaml", "v1"))],
    ["eventing.knative.dev/v1 Broker", ajv.compile(crdSchema("broker.yaml", "v1"))],
    ["eventing.knative.dev/v1 Trigger", ajv.compile(crdSchema("trigger.yaml", "v1"))],
    ["sources.knative.dev/v1 SinkBinding", ajv.compile(crdSchema("sinkbindings.yaml", "v1"))],
  ]);
}
