// A dummy OTLP/HTTP receiver: accepts every export (traces, metrics, logs) with an empty
// success response and counts what it got. PORT from argv[2]; 127.0.0.1 only.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 4318);
let exports = 0;
let bytes = 0;
createServer((req, res) => {
  let size = 0;
  req.on("data", (c) => (size += c.length));
  req.on("end", () => {
    if (req.method === "GET") {
      const text = JSON.stringify({ exports, bytes });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    exports++;
    bytes += size;
    const json = String(req.headers["content-type"] ?? "").includes("json");
    const body = json ? "{}" : "";
    res.writeHead(200, {
      "content-type": json ? "application/json" : "application/x-protobuf",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
}).listen(port, "127.0.0.1");
