import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { createAdminServer } from "../admin/admin-server.js";
import { adminJwt } from "../admin/jwt-access.js";
import type { Component } from "../entity/define.js";
import type { HostConfig } from "../config/host-config.js";
import type { Auth } from "../auth/index.js";
import { addApiRoutes } from "../http/api-routes.js";
import { CloudEventCommands } from "../http/cloudevent-commands.js";
import { createEdgeAuth } from "../http/edge-auth.js";
import { createIngress } from "../http/ingress.js";
import { addProbes } from "../http/probes.js";
import { Router, type RequestWrapper } from "../http/router.js";
import { createHttpServer } from "../http/server.js";
import { silentLogger, type Logger } from "../observability/logger.js";
import { servedComponents } from "../outbox/served-components.js";
import { MemoryStore } from "../store/memory-store.js";
import type { StateStore } from "../store/state-store.js";
import type { PipelineObserver } from "../observability/pipeline-observer.js";
import { Pipeline as Dispatcher } from "../pipeline/pipeline.js";
import { Registry } from "../pipeline/registry.js";
import { createTimerRunner, type TimerObserver, type TimerRunner } from "../timers/index.js";

export interface HostOptions {
  readonly config: HostConfig;
  readonly components: readonly Component[];
  /** The state store; the embedded memory store when absent. */
  readonly store?: StateStore;
  readonly logger?: Logger;
  readonly observer?: PipelineObserver;
  /**
   * Wraps the handling of every request on the public port (tracing hooks in here); gets the
   * kind of request so probes can be left alone.
   */
  readonly wrapRequest?: RequestWrapper;
  /**
   * Authentication of the public surfaces and the authorization policy (`createAuth`); absent:
   * every request is anonymous (entities' own `authorize` rules still apply).
   */
  readonly auth?: Auth;
  /** Metrics of durable timers. */
  readonly timerObserver?: TimerObserver;
  /** The admin port's access rules (docs/admin.md); `production` locks it without a token. */
  readonly admin?: { readonly production: boolean };
}

export type HostState = "created" | "listening" | "draining" | "closed";

export interface Host {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly store: StateStore;
  readonly server: Server;
  /** The one router of the serving port: more routes (e.g. admin) can be added before `listen`. */
  readonly router: Router;
  readonly state: HostState;
  /** Resolves with the bound port (useful with port 0). */
  listen(port?: number, host?: string): Promise<number>;
  /** Opens the admin port (`ADMIN_PORT`, unless `port` is given); undefined when it is 0 (off). */
  listenAdmin(port?: number, host?: string): Promise<number | undefined>;
  /** Readiness turns 503, the server stops accepting, in-flight commands finish, the store closes. */
  close(): Promise<void>;
  /** Fires due timers (polling while listening, and on the PingSource wake-up); absent without timers. */
  readonly timers: TimerRunner | undefined;
}

/**
 * Wires a host: the registry of the components, the dispatcher over the store, and the HTTP
 * edge (`src/http/`) with its routes: `POST /` (CloudEvents), the HTTP API and the probes.
 */
export function createHost(options: HostOptions): Host {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const store = options.store ?? new MemoryStore();
  // Without K_SINK no relay empties the outbox: publishing entities write none.
  const registry = new Registry(servedComponents(config.sink, options.components, logger));
  const dispatcher = new Dispatcher({
    store,
    cache: { enabled: config.cache, maxEntities: config.cacheMaxEntities, maxBytes: config.cacheMaxBytes },
    groupCommit: { enabled: config.groupCommit, maxBatch: Math.max(1, config.groupCommitMax) },
    conflictRetries: config.conflictRetries,
    retryBackoffMs: { base: config.conflictBackoffBaseMs, max: config.conflictBackoffMaxMs },
    dedupTtlMs: config.dedupTtlMs,
    replicatedPredict: config.replicatedPredict,
    eventMetadata: config.eventMetadata,
    newId: randomUUID,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const auth = createEdgeAuth(options.auth, logger);
  const timers = createTimerRunner({
    store,
    entity: (name) => {
      const model = registry.entity(name);
      return model?.kind === "replicated" ? undefined : model;
    },
    dispatch: (request) => dispatcher.dispatch(request),
    config,
    logger,
    observer: options.timerObserver,
  });
  const commands = new CloudEventCommands({
    registry,
    dispatcher,
    service: config.service,
    newId: randomUUID,
    observer: options.observer,
    auth,
    onPing: timers && (() => timers.fireDue()),
  });
  let state: HostState = "created";
  const { bodyLimitBytes } = config;
  const router = new Router();
  router.add("POST", "/", "cloudevent", createIngress({ commands, bodyLimitBytes, logger, auth }));
  addProbes(router, {
    serving: () => state === "listening",
    store,
    pingTimeoutMs: config.readinessTimeoutMs,
    onStoreAvailability: (up) => options.observer?.storeAvailability?.(up),
  });
  addApiRoutes(router, {
    registry,
    dispatcher,
    readEvents: (key, from, to) => store.readEvents(key, from, to),
    bodyLimitBytes,
    auth,
    publicEvents: config.publicEvents,
  });
  const admin =
    config.adminPort === 0
      ? undefined
      : createAdminServer({
          store,
          entities: () => registry.entities,
          read: (model, id) => dispatcher.read(model, id),
          logger,
          token: config.adminToken,
          authenticate: options.auth && adminJwt(options.auth.api, config.adminRole),
          links: { traceUrl: config.traceUrl, dashboardUrl: config.dashboardUrl },
          production: options.admin?.production ?? false,
          requestTimeoutMs: config.requestTimeoutMs,
        });
  let adminListening = false;
  const http = createHttpServer({
    router,
    logger,
    bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    drainQuietMs: config.drainQuietMs,
    wrapRequest: options.wrapRequest,
  });

  return {
    registry,
    dispatcher,
    store,
    server: http.server,
    router,
    timers,
    get state() {
      return state;
    },
    async listen(port = config.port, host = config.host) {
      const bound = await http.listen(port, host);
      state = "listening";
      timers?.start();
      return bound;
    },
    async listenAdmin(port = config.adminPort, host = config.host) {
      if (admin === undefined) return undefined;
      const bound = await admin.listen(port, host);
      adminListening = true;
      return bound;
    },
    async close() {
      if (state === "closed" || state === "draining") return;
      state = "draining";
      if (adminListening) await admin?.close();
      const deadline = performance.now() + config.shutdownTimeoutMs;
      await http.drain(deadline);
      await timers?.stop();
      const remaining = Math.max(0, deadline - performance.now());
      if (!(await dispatcher.drain(remaining))) {
        logger.warn("shutdown deadline passed with commands in flight", { inFlight: dispatcher.active });
      }
      await store.close();
      state = "closed";
    },
  };
}
