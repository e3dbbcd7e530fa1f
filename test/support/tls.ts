import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** True when `openssl` runs; else a loud skip of `what`, or a failure when CI is set. */
export function opensslAvailable(what: string): boolean {
  if (spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0) return true;
  const message = `openssl is not installed: ${what} are SKIPPED (install it: sudo bash .ci/install-tools)`;
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} !!!!!!!!!!\n`);
  return false;
}

/** A CA, and a certificate it signs for 127.0.0.1; `other` is an unrelated CA. */
export function makeCertificates(dir: string): { ca: string; other: string; cert: string; key: string } {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  for (const name of ["ca", "other"]) {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=knstate test ${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
    );
  }
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "server.crt",
  );
  return {
    ca: join(dir, "ca.crt"),
    other: join(dir, "other.crt"),
    cert: join(dir, "server.crt"),
    key: join(dir, "server.key"),
  };
}
