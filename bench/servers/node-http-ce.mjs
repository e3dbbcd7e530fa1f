// The Node ceiling for a CloudEvent function: node:http, ce- headers read by hand, a
// binary-mode reply event with a fresh id and time and the echoed JSON data. No framework,
// no SDK. PORT from argv[2]; listens on 127.0.0.1 only.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";

const port = Number(process.argv[2] ?? 8103);
createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const h = req.headers;
    if (h["ce-specversion"] !== "1.0" || !h["ce-id"] || !h["ce-source"] || !h["ce-type"]) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("not a binary-mode CloudEvent");
      return;
    }
    let data;
    try {
      data = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString()));
    } catch {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("data is not JSON");
      return;
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(data),
      "ce-specversion": "1.0",
      "ce-id": randomUUID(),
      "ce-time": new Date().toISOString(),
      "ce-source": "/bench/node-http",
      "ce-type": "dev.bench.echo.reply",
    });
    res.end(data);
  });
}).listen(port, "127.0.0.1");
