/**
 * Knative Eventing's Trigger `filters` (the SubscriptionsAPI dialect) evaluated on a CloudEvent's
 * attributes, as the Broker's filter does: every top-level expression must hold; `exact`,
 * `prefix` and `suffix` compare every attribute they name (a missing attribute fails); `all`,
 * `any` and `not` combine. `cesql` is not modelled and throws.
 */
type Attributes = Readonly<Record<string, string | undefined>>;
type Json = Record<string, unknown>;

function compare(
  spec: unknown,
  event: Attributes,
  test: (value: string, expected: string) => boolean,
): boolean {
  const entries = Object.entries(spec as Record<string, string>);
  if (entries.length === 0) throw new Error("a filter expression must name at least one attribute");
  return entries.every(([name, expected]) => {
    const value = event[name];
    return value !== undefined && test(value, expected);
  });
}

export function matches(expression: Json, event: Attributes): boolean {
  const keys = Object.keys(expression);
  if (keys.length !== 1) throw new Error(`one dialect per expression, got ${keys.join(", ") || "none"}`);
  const [key] = keys as [string];
  const value = expression[key];
  switch (key) {
    case "exact":
      return compare(value, event, (v, e) => v === e);
    case "prefix":
      return compare(value, event, (v, e) => v.startsWith(e));
    case "suffix":
      return compare(value, event, (v, e) => v.endsWith(e));
    case "all":
      return (value as Json[]).every((e) => matches(e, event));
    case "any":
      return (value as Json[]).some((e) => matches(e, event));
    case "not":
      return !matches(value as Json, event);
    default:
      throw new Error(`filter dialect "${key}" is not modelled here`);
  }
}

/** Whether a Trigger with these `spec.filters` delivers the event. */
export function delivers(filters: readonly Json[], event: Attributes): boolean {
  return filters.every((f) => matches(f, event));
}
