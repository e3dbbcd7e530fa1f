import type { Component } from "../entity/define.js";
import type { Logger } from "../observability/logger.js";
import { parseCeOverrides, SinkPublisher } from "./sink-publisher.js";

/**
 * The publisher for `K_SINK` (set by a Knative SinkBinding), with the extensions of
 * `K_CE_OVERRIDES`; `undefined` when `K_SINK` is unset. Throws when either variable is malformed.
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
  logger.info("publishing committed events to K_SINK", {
    sink: url.href,
    extensions: Object.keys(extensions),
  });
  return new SinkPublisher({ sink: url.href, service, typePrefixes, overrides: extensions, logger });
}
