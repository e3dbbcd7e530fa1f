import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on `port` (0: any free one) of `host`; resolves with the bound port, rejects on a bind error. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
