import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM files for a TLS server: its certificate and key, and the CA that signed it. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/**
 * A throwaway CA and a server certificate for `localhost` and 127.0.0.1, made with `openssl`
 * in a temporary directory (removed by `remove()`).
 */
export async function createTestCertificates(): Promise<TlsFiles & { dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "knstate-tls-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=knstate test CA",
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(at("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await openssl(
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("server.crt"),
    "-days",
    "2",
    "-extfile",
    at("ext.cnf"),
  );
  return {
    dir,
    certFile: at("server.crt"),
    keyFile: at("server.key"),
    caFile: at("ca.crt"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
