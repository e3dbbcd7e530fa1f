// The echo section: a stateless binary-mode CloudEvent echo, knstate beside faas-js-runtime and node:http.

import { checkEcho } from "../lib/checks.mjs";
import { idleRss, rounds, sectionRows } from "../lib/measure.mjs";
import { httpRequest } from "../lib/proc.mjs";
import { logDir, results, start, stopAll } from "../lib/run-state.mjs";
import * as S from "../lib/servers.mjs";

export async function echoSection() {
  const otlp = await start(
    S.startNodeScript({ name: "otlp-sink", script: "otlp-sink.mjs", port: 4318, logDir }),
  );
  const ks = await start(
    S.startKnstate({ name: "knstate-echo", port: 8201, metricsPort: 9501, service: "bench-echo", logDir }),
  );
  const ksOtel = await start(
    S.startKnstate({
      name: "knstate-echo-otel",
      port: 8202,
      metricsPort: 9502,
      service: "bench-echo-otel",
      otlp: "http://127.0.0.1:4318",
      logDir,
    }),
  );
  const faas = await start(S.startFaas({ port: 8101, logDir }));
  const nodeCe = await start(
    S.startNodeScript({ name: "node-http-ce", script: "node-http-ce.mjs", port: 8103, logDir }),
  );
  const hello = await start(
    S.startNodeScript({ name: "node-hello", script: "node-hello.mjs", port: 8104, logDir }),
  );
  await checkEcho(ks.port, "com.example.echo.say");
  await checkEcho(ksOtel.port, "com.example.echo.say");
  await checkEcho(faas.port, "dev.bench.echo");
  await checkEcho(nodeCe.port, "dev.bench.echo");
  const idle = await idleRss([ks, ksOtel, faas, nodeCe, hello]);
  const contenders = [
    {
      id: "ks-echo",
      label: "knstate echo action (binary CloudEvent)",
      server: ks,
      load: { mode: "ks-echo" },
    },
    {
      id: "faas",
      label: "faas-js-runtime 3.0.2, function returns a CloudEvent",
      server: faas,
      load: { mode: "ce-echo" },
    },
    {
      id: "node-ce",
      label: "node:http, hand-parsed ce- headers (Node ceiling)",
      server: nodeCe,
      load: { mode: "ce-echo" },
    },
    { id: "node-hello", label: "node:http hello world", server: hello, load: { mode: "hello" } },
    {
      id: "ks-echo-otel",
      label: "knstate echo, tracing on (OTLP to a local sink)",
      server: ksOtel,
      load: { mode: "ks-echo" },
    },
  ];
  const runs = await rounds("echo", contenders, undefined);
  const section = {
    reference: "node-ce",
    second: "faas",
    rows: sectionRows(contenders, runs, "node-ce", idle, () => "faas"),
  };
  section.otlpSink = await httpRequest({ port: otlp.port, path: "/stats" })
    .then((r) => JSON.parse(r.body))
    .catch(() => undefined);
  results.sections.echo = section;
  section.runs = runs;
  await stopAll();
}
