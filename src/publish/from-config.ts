import type { HostConfig } from "../config/host-config.js";
import type { Component } from "../entity/define.js";
import type { Logger } from "../observability/logger.js";
import { parseCeOverrides, SinkPublisher } from "./sink-publisher.js";

type SinkConfig = Pick<
  HostConfig,
  "sink" | "ceOverrides" | "caCerts" | "sinkTimeoutMs" | "sinkQueueMax" | "sinkConcurrency" | "service"
>;

/**
 * The publisher for `K_SINK` (set by a Knative SinkBinding), with the extensions of
 * `K_CE_OVERRIDES`, the CA certificates of `K_CA_CERTS` (a sink with TLS) and the per-request
 * timeout of `K_SINK_TIMEOUT`; `undefined` when `K_SINK` is unset. The settings table has
 * validated each of them; throws when `K_CE_OVERRIDES` is JSON of the wrong shape.
 */
export function sinkPublisherFromConfig(
  config: SinkConfig,
  components: readonly Component[],
  logger: Logger,
): SinkPublisher | undefined {
  if (config.sink === undefined) return undefined;
  const { extensions, ignored } = parseCeOverrides(config.ceOverrides);
  if (ignored.length > 0) {
    logger.warn(
      "K_CE_OVERRIDES: ignoring extensions that are invalid or would replace a standard attribute",
      {
        ignored,
      },
    );
  }
  const typePrefixes = new Map<string, string>();
  for (const component of components) {
    if (component.kind !== "action") typePrefixes.set(component.name, component.typePrefix);
  }
  logger.info("publishing committed events to K_SINK", {
    sink: config.sink,
    extensions: Object.keys(extensions),
    ...(config.caCerts === undefined ? {} : { caCerts: true }),
  });
  return new SinkPublisher({
    sink: config.sink,
    service: config.service,
    typePrefixes,
    overrides: extensions,
    logger,
    caCerts: config.caCerts,
    timeoutMs: config.sinkTimeoutMs,
    maxQueue: config.sinkQueueMax,
    concurrency: config.sinkConcurrency,
  });
}
