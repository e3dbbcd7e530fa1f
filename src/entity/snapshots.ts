/** A stored snapshot as the entity model judges it: the fields the store must keep with the state. */
export interface StoredSnapshot {
  readonly version: number;
  readonly state: unknown;
  /** The schema version of the definition that wrote it (absent: written before versioning, 1). */
  readonly schemaVersion?: number | undefined;
  /** `model.fingerprint` when it was written (absent: written before fingerprints). */
  readonly fingerprint?: string | undefined;
}

/**
 * Whether to use a stored snapshot. `use: true` with `migrated` means the state came through the
 * entity's `upcastState` and the next append should write a fresh snapshot; `use: false` means
 * fold every event from version 1 instead, then write a fresh snapshot.
 */
export type SnapshotVerdict =
  | { readonly use: true; readonly state: unknown; readonly migrated: boolean }
  | { readonly use: false; readonly reason: string };

/** A value entity's stored state that the current definition cannot take. */
export class UnreadableState extends Error {
  readonly entity: string;
  readonly schemaVersion: number;
  constructor(entity: string, schemaVersion: number, why: string) {
    super(`entity ${entity} cannot read its stored state (schema version ${schemaVersion}): ${why}`);
    this.name = "UnreadableState";
    this.entity = entity;
    this.schemaVersion = schemaVersion;
  }
}

export interface SnapshotRules {
  readonly entity: string;
  readonly kind: "event-sourced" | "value";
  readonly schemaVersion: number;
  readonly fingerprint: string;
  readonly upcastState: ((state: unknown, fromVersion: number) => unknown) | undefined;
}

/**
 * Event-sourced: a snapshot of this version and fingerprint is used; an older one goes through
 * `upcastState` when declared, else is ignored; any other is ignored (the events are the truth).
 * Value: the snapshot is the only copy of the state, so it is used at its version (code changes
 * do not matter), migrated from an older one, and refused (`UnreadableState`) otherwise.
 */
export function judgeSnapshot(rules: SnapshotRules, snapshot: StoredSnapshot): SnapshotVerdict {
  const version = snapshot.schemaVersion ?? 1;
  const current = rules.schemaVersion;
  if (rules.kind === "value") {
    if (version === current) return { use: true, state: snapshot.state, migrated: false };
    if (version < current && rules.upcastState)
      return { use: true, state: rules.upcastState(snapshot.state, version), migrated: true };
    throw new UnreadableState(
      rules.entity,
      version,
      version > current
        ? `it was written by a newer definition (schemaVersion ${current} here); roll forward`
        : `declare upcastState to migrate it to schemaVersion ${current}`,
    );
  }
  if (version === current && snapshot.fingerprint === rules.fingerprint)
    return { use: true, state: snapshot.state, migrated: false };
  if (version < current && rules.upcastState)
    return { use: true, state: rules.upcastState(snapshot.state, version), migrated: true };
  return {
    use: false,
    reason:
      version !== current
        ? `snapshot of schema version ${version}, definition is ${current}`
        : "snapshot written by other event-handler code",
  };
}
