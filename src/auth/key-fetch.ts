import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * A `fetch` for discovery documents and JWKS that can trust a private CA and send a bearer
 * token: in Kubernetes the service-account issuer is the API server, which serves
 * `/.well-known/openid-configuration` and `/openid/v1/jwks` over TLS signed by the cluster CA
 * and, by default, only to authenticated service accounts.
 */
export interface FetchOptions {
  readonly caFile: string | undefined;
  readonly tokenFile: string | undefined;
  readonly timeoutMs: number;
}

const MAX_BODY = 1024 * 1024;

export type KeyFetch = (url: string, init?: { headers?: Headers; signal?: AbortSignal }) => Promise<Response>;

export function createKeyFetch(options: FetchOptions): KeyFetch {
  return async (url, init) => {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: "application/json" };
    init?.headers?.forEach((value, name) => (headers[name] = value));
    // Read at every fetch: projected service-account tokens are rotated on disk.
    if (options.tokenFile !== undefined)
      headers["authorization"] = `Bearer ${(await readFile(options.tokenFile, "utf8")).trim()}`;
    const ca = options.caFile === undefined ? undefined : await readFile(options.caFile, "utf8");
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = send(
        target,
        { method: "GET", headers, timeout: options.timeoutMs, ...(ca === undefined ? {} : { ca }) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY)
              req.destroy(new Error(`${target.origin}${target.pathname} sent more than 1 MiB`));
            else chunks.push(chunk);
          });
          res.on("end", () =>
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`no answer from ${target.origin} in ${options.timeoutMs} ms`)),
      );
      req.on("error", reject);
      init?.signal?.addEventListener("abort", () => req.destroy(new Error("aborted")), { once: true });
      req.end();
    });
  };
}

/** The `jwks_uri` of an OpenID Provider (RFC 8414 / OIDC Discovery), checked against the issuer. */
export async function discoverJwksUri(issuer: string, fetch: KeyFetch): Promise<string> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`OIDC discovery ${url} answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuer)
    throw new Error(`OIDC discovery ${url} names issuer ${String(doc.issuer)}, expected ${issuer}`);
  if (typeof doc.jwks_uri !== "string" || !URL.canParse(doc.jwks_uri))
    throw new Error(`OIDC discovery ${url} has no valid jwks_uri`);
  return doc.jwks_uri;
}
