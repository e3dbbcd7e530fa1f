// Restate's equivalent of the knstate counter: a virtual object `counter` whose exclusive
// handler `add` reads `count`, adds the number it is given and stores it. Served over h2c on
// 127.0.0.1 (the SDK's own listen() binds every interface). PORT from argv[2].
import http2 from "node:http2";
import * as restate from "@restatedev/restate-sdk";

const counter = restate.object({
  name: "counter",
  handlers: {
    add: async (ctx, delta) => {
      const count = ((await ctx.get("count")) ?? 0) + (Number(delta) || 0);
      ctx.set("count", count);
      return count;
    },
  },
});

const port = Number(process.argv[2] ?? 9080);
const handler = restate.endpoint().bind(counter).http2Handler();
http2.createServer(handler).listen(port, "127.0.0.1");
