import { toHostError } from "../errors/host-error.js";
import { answerApiFailure } from "../http/problem.js";
import { Router } from "../http/router.js";
import { createHttpServer } from "../http/server.js";
import type { Logger } from "../observability/logger.js";
import type { AnyEntityModel } from "../pipeline/registry.js";
import { checkAdminAccess, lockedReason, type AdminAuthenticate } from "./access.js";
import { addAdminApi, type AdminApiOptions, type AdminStore } from "./api-routes.js";
import { addConsoleRoutes } from "./console-routes.js";
import { addEntityExtras } from "./entity-extras.js";
import { addAdminOperations } from "./operations.js";
import { addOutboxRoutes } from "./outbox-routes.js";

export interface AdminServerOptions {
  readonly store: AdminStore;
  readonly entities: () => readonly AnyEntityModel[];
  read(model: AnyEntityModel, id: string): Promise<{ state: unknown; version: number }>;
  readonly logger: Logger;
  /** `KNSTATE_ADMIN_TOKEN`. */
  readonly token: string | undefined;
  readonly production: boolean;
  /** Another accepted credential (a JWT of the API's authentication with the admin role). */
  readonly authenticate?: AdminAuthenticate | undefined;
  readonly links?: AdminApiOptions["links"];
  readonly requestTimeoutMs: number;
}

export interface AdminServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** Admin requests carry no body beyond a few bytes. */
const ADMIN_BODY_LIMIT = 16 * 1024;

/**
 * The admin port (`ADMIN_PORT`): the admin API under `/api/` and the console at `/`, on a router
 * of its own. Never routed by Knative (only the serving port is): operators reach it with
 * `kubectl port-forward`. Every request passes the access check first (docs/admin.md).
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { logger } = options;
  const router = new Router();
  addConsoleRoutes(router);
  addAdminApi(router, options);
  addEntityExtras(router, options);
  addOutboxRoutes(router, options, logger);
  addAdminOperations(router, options, logger);
  const locked = lockedReason(options);
  if (locked !== undefined) logger.warn(locked);
  const http = createHttpServer({
    router,
    logger,
    bodyLimitBytes: ADMIN_BODY_LIMIT,
    requestTimeoutMs: options.requestTimeoutMs,
    wrapRequest: async (_kind, req, res, next) => {
      try {
        await checkAdminAccess(req, options);
      } catch (error) {
        answerApiFailure(logger, req, res, toHostError(error));
        return;
      }
      await next();
    },
  });
  return {
    listen: (port, host) => http.listen(port, host),
    close: () => http.drain(performance.now()),
  };
}
