import type { Component } from "../entity/define.js";
import type { Logger } from "../observability/logger.js";
import { parseCeOverrides, SinkPublisher } from "./sink-publisher.js";

/**
 * The publisher for `K_SINK` (set by a Knative SinkBinding), with the extensions of
 * `K_CE_OVERRIDES`, the CA certificates of `K_CA_CERTS` (a sink with TLS) and the per-request
 * timeout of `K_SINK_TIMEOUT` (seconds); `undefined` when `K_SINK` is unset. Throws when one of
 * them is malformed.
 */
export function sinkPublisherFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  components: readonly Component[],
  service: string,
  logger: Logger,
): SinkPublisher | undefined {
  const sink = env.K_SINK?.trim();
  if (sink === undefined || sink === "") return undefined;
  let url: URL;
  try {
    url = new URL(sink);
  } catch {
    throw new Error(`K_SINK must be an absolute http(s) URL, not ${JSON.stringify(sink)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`K_SINK must be an http(s) URL, not ${JSON.stringify(sink)}`);
  }
  const { extensions, ignored } = parseCeOverrides(env.K_CE_OVERRIDES);
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
  const timeout = env.K_SINK_TIMEOUT?.trim();
  const timeoutSeconds = timeout ? Number(timeout) : undefined;
  if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) {
    throw new Error(`K_SINK_TIMEOUT must be a number of seconds, not ${JSON.stringify(timeout)}`);
  }
  const caCerts = env.K_CA_CERTS?.trim() || undefined;
  if (caCerts !== undefined && !caCerts.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error("K_CA_CERTS must hold PEM certificates (-----BEGIN CERTIFICATE-----)");
  }
  logger.info("publishing committed events to K_SINK", {
    sink: url.href,
    extensions: Object.keys(extensions),
    ...(caCerts === undefined ? {} : { caCerts: true }),
  });
  return new SinkPublisher({
    sink: url.href,
    service,
    typePrefixes,
    overrides: extensions,
    logger,
    caCerts,
    ...(timeoutSeconds === undefined ? {} : { timeoutMs: timeoutSeconds * 1000 }),
  });
}
