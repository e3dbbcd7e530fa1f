/** Checks of the names that appear in CloudEvent types and URLs. */
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const COMMAND = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PREFIX = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/i;

export function validateName(name: string, what: string): void {
  if (!NAME.test(name)) {
    throw new TypeError(
      `${what} name "${name}" must match ${NAME.source} (it appears in event types and URLs)`,
    );
  }
}
export function validateCommandName(name: string): void {
  if (!COMMAND.test(name)) throw new TypeError(`command name "${name}" must match ${COMMAND.source}`);
}
export function validateTypePrefix(prefix: string): void {
  if (!PREFIX.test(prefix) || prefix.length > 200) {
    throw new TypeError(`typePrefix "${prefix}" must be a dotted name such as "com.example"`);
  }
}
/**
 * Checks the names of a component (its own, its type prefix, those of its commands or handlers)
 * and returns the first two, to spread into the frozen definition.
 */
export function componentNames(
  what: string,
  options: { readonly name: string; readonly typePrefix: string },
  commands: object,
): { readonly name: string; readonly typePrefix: string } {
  validateName(options.name, what);
  validateTypePrefix(options.typePrefix);
  for (const command of Object.keys(commands)) validateCommandName(command);
  return { name: options.name, typePrefix: options.typePrefix };
}
