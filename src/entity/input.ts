/**
 * Input validation for commands. Any Standard Schema validator (zod 3.24+, zod 4, valibot,
 * arktype) works, and so does a plain function that returns the parsed value or throws.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/** A schema or a parse function: `(input) => value`, throwing on invalid input. */
export type InputSchema<T> = StandardSchemaV1<unknown, T> | ((input: unknown) => T);

/** The value type a schema produces. */
export type InferInput<V> =
  V extends StandardSchemaV1<unknown, infer O> ? O : V extends (input: unknown) => infer O ? O : never;

/** Thrown by `parseInput` with the validator's own message. */
export class InvalidInput extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidInput";
  }
}

/** Validates synchronously: command validation runs on the request path, before queueing. */
export function parseInput<T>(schema: InputSchema<T>, input: unknown): T {
  if (typeof schema === "function") {
    try {
      return schema(input);
    } catch (error) {
      throw new InvalidInput(error instanceof Error ? error.message : String(error));
    }
  }
  const result = schema["~standard"].validate(input);
  if (result instanceof Promise) throw new TypeError("knstate supports synchronous input schemas only");
  if (result.issues) {
    throw new InvalidInput(
      result.issues
        .map((issue) => {
          const path = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
          return path ? `${path}: ${issue.message}` : issue.message;
        })
        .join("; "),
    );
  }
  return result.value;
}
