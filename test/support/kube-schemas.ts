import * as k8s from "@kubernetes/client-node";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";

type Attribute = { readonly baseName: string; readonly type: string };
type Model = { getAttributeTypeMap?: () => readonly Attribute[] };

/**
 * What the Kubernetes API would refuse in an `apps/v1` Deployment: its OpenAPI schema (types,
 * required fields, as `kubernetes-models` compiled it) and, as the API's strict field validation
 * does, fields it does not know (the models of `@kubernetes/client-node`). Empty when valid.
 */
export function deploymentProblems(object: unknown): string[] {
  const problems: string[] = [];
  try {
    new Deployment(object as ConstructorParameters<typeof Deployment>[0]).validate();
  } catch (error) {
    problems.push((error as Error).message);
  }
  unknownFields(object, "V1Deployment", "", problems);
  return problems;
}

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const model = (k8s as unknown as Record<string, Model | undefined>)[type];
  if (model?.getAttributeTypeMap === undefined || value === null || typeof value !== "object") return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(value)) {
    const field = fields.get(key);
    if (field === undefined) out.push(`${path}.${key}: not a field of ${type}`);
    else unknownFields(v, field, `${path}.${key}`, out);
  }
}
