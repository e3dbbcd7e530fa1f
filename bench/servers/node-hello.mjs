// node:http hello world: the ceiling of any Node HTTP server on this machine.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8104);
createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": 5 });
    res.end("hello");
  });
}).listen(port, "127.0.0.1");
