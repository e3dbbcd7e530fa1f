/**
 * Real Redis for integration and fault-injection tests: one `redis-server` (`startRedis`), a
 * Redis Cluster (`startRedisCluster`), TLS certificates for them (`createTestCertificates`), and
 * a raw-socket probe (`askRedis`).
 */
export { redisAvailable, startRedis, type RedisServer, type RedisServerOptions } from "./redis-server.js";
export { startRedisCluster, type RedisCluster } from "./redis-cluster.js";
export { createTestCertificates, type TlsFiles } from "./redis-tls.js";
export { askRedis } from "./redis-process.js";
