// A K_SINK for bench/outbox.mjs: records each CloudEvent's id and its lag (arrival time minus
// its `ce-time`, the commit time), answers with the status set by `GET /status/<code>`.
// `GET /stats` returns the counts and the lags' p50/p99; `GET /reset` clears them.
// PORT from argv[2]; 127.0.0.1 only.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 4330);
let status = 202;
let received = 0;
let ids = new Set();
let lags = [];
let first = 0;
let last = 0;

function quantile(sorted, q) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.method === "GET") {
      const m = /^\/status\/(\d+)$/.exec(req.url ?? "");
      if (m) status = Number(m[1]);
      if (req.url === "/reset") {
        received = 0;
        ids = new Set();
        lags = [];
        first = last = 0;
      }
      const sorted = [...lags].sort((a, b) => a - b);
      const body = JSON.stringify({
        status,
        received,
        distinct: ids.size,
        first,
        last,
        lagP50: quantile(sorted, 0.5),
        lagP99: quantile(sorted, 0.99),
      });
      res.writeHead(200, { "content-type": "application/json" }).end(body);
      return;
    }
    received++;
    if (status < 300) {
      const now = Date.now();
      const id = String(req.headers["ce-id"]);
      if (!ids.has(id)) {
        ids.add(id);
        lags.push(now - Date.parse(String(req.headers["ce-time"])));
      }
      first ||= now;
      last = now;
    }
    res.writeHead(status).end();
  });
}).listen(port, "127.0.0.1");
