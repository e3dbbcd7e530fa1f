/** The host's settings with every default filled in and every unit resolved (milliseconds, bytes). */
export interface HostConfig {
  readonly port: number;
  readonly host: string;
  readonly metricsPort: number;
  readonly store: "memory" | "redis";
  readonly redisUrl: string;
  readonly redisClusterNodes: readonly string[] | undefined;
  readonly redisCommandTimeoutMs: number;
  readonly redisConnectTimeoutMs: number;
  readonly redisTlsCaFile: string | undefined;
  readonly redisWaitReplicas: number;
  readonly redisWaitTimeoutMs: number;
  readonly keyPrefix: string;
  readonly cache: boolean;
  readonly cacheMaxEntities: number;
  readonly cacheMaxBytes: number;
  readonly groupCommit: boolean;
  readonly groupCommitMax: number;
  readonly conflictRetries: number;
  readonly dedupTtlMs: number;
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: "debug" | "info" | "warn" | "error" | "silent";
  readonly logFormat: "json" | "pretty";
  readonly service: string;
  readonly revision: string | undefined;
  readonly configuration: string | undefined;
}
