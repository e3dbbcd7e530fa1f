import { DEFAULT_REDIS_SECRET } from "./service.js";

/**
 * The Secret whose key `url` holds `REDIS_URL` for the functions' Services
 * (`--redis-secret NAME`; `knstate-redis` by default). Written with `stringData`, so the YAML
 * shows the URL as given: keep it out of version control.
 */
export interface RedisSecret {
  apiVersion: "v1";
  kind: "Secret";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  type: "Opaque";
  stringData: { url: string };
}

export function buildRedisSecret(options: {
  readonly url: string;
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
}): RedisSecret {
  const name = options.name ?? DEFAULT_REDIS_SECRET;
  const problems: string[] = [];
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    problems.push(`name "${name}" must be a DNS subdomain (lower-case letters, digits, - and .)`);
  }
  let scheme: string | undefined;
  try {
    scheme = new URL(options.url).protocol;
  } catch {
    problems.push(`url "${options.url}" is not a URL (redis://[:password@]host:6379[/db] or rediss://…)`);
  }
  if (scheme !== undefined && scheme !== "redis:" && scheme !== "rediss:") {
    problems.push(`url must start with redis:// or rediss://, not ${scheme}//`);
  }
  if (problems.length > 0) throw new Error(`cannot build the Secret:\n  - ${problems.join("\n  - ")}`);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels: { "app.kubernetes.io/part-of": "knstate" },
    },
    type: "Opaque",
    stringData: { url: options.url },
  };
}
