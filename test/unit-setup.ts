import { Server } from "node:net";

/**
 * Unit tests run in this process without ports: a test that needs to listen belongs in
 * test/integration/. Every server (HTTP, TLS and plain TCP) listens through net.Server.
 */
Server.prototype.listen = function refuse(): never {
  throw new Error("a unit test tried to listen on a port: move it to test/integration/");
};
