import { basename, resolve } from "node:path";
import { loadFunctions } from "../host/load-functions.js";
import { buildService, IMAGE_FUNCTIONS_DIR, type KnativeService, type ServiceOptions } from "./service.js";

export type FunctionServiceOptions = Omit<ServiceOptions, "name" | "functionPath" | "stateful"> & {
  /** Service name; the function's entity or action name when absent. */
  readonly name?: string | undefined;
  /** The folder inside the image; `/app/dist/functions/<folder name>` when absent. */
  readonly functionPath?: string | undefined;
};

/**
 * Loads a function folder to learn its name and whether it keeps state, then builds its
 * Knative Service.
 */
export async function serviceForFunction(
  dir: string,
  options: FunctionServiceOptions,
): Promise<KnativeService> {
  const components = await loadFunctions([dir]);
  const name = options.name ?? components[0]!.name;
  if (options.name === undefined && components.length > 1) {
    throw new Error(
      `${dir} exports ${components.length} components (${components.map((c) => c.name).join(", ")}): choose the Service name with --name`,
    );
  }
  return buildService({
    ...options,
    name,
    functionPath: options.functionPath ?? `${IMAGE_FUNCTIONS_DIR}/${basename(resolve(dir))}`,
    stateful: components.some((c) => c.kind !== "action"),
  });
}
