import type { EntityKey } from "./state-store.js";

/**
 * Whether an outbox message (its stored JSON) belongs to the erased life of `key`: the entity's
 * type and id, at a version below the tombstone's. Messages of the entity's next life carry
 * versions from the tombstone on, so an outbox swept after the tombstone was written never
 * loses them, whatever was appended meanwhile.
 */
export function erasedMessage(key: EntityKey, tombstone: number): (json: string) => boolean {
  return (json) => {
    let message: { entityType?: unknown; entityId?: unknown; version?: unknown };
    try {
      message = JSON.parse(json) as typeof message;
    } catch {
      return false;
    }
    return (
      message.entityType === key.entityType &&
      message.entityId === key.entityId &&
      typeof message.version === "number" &&
      message.version < tombstone
    );
  };
}
