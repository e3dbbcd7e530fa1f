import type { JwtSettings, KeySource } from "./settings.js";

/** Asymmetric algorithms only: a JWKS holds public keys, and an HMAC "signed" with one is forgeable. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads variables and collects every problem, so one error can list them all. */
export class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}
  problem(message: string): void {
    this.problems.push(message);
  }
  text(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }
  required(name: string): string {
    const value = this.text(name);
    if (value === undefined) this.problem(`${name} is required`);
    return value ?? "";
  }
  list(name: string): string[] {
    return (this.text(name) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }
  url(name: string): string {
    const value = this.text(name) ?? "";
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
      this.problem(`${name} must be an http(s) URL`);
    return value;
  }
  oneOf<const T extends readonly string[]>(name: string, values: T, fallback: T[number]): T[number] {
    const value = this.text(name) ?? fallback;
    if (values.includes(value)) return value;
    this.problem(`${name} must be one of ${values.join(", ")}; got "${value}"`);
    return fallback;
  }
  seconds(name: string, fallback: number): number {
    const raw = this.text(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < 0) this.problem(`${name} must be a number of seconds ≥ 0`);
    return value;
  }
  jwt(
    prefix: string,
    keys: KeySource,
    issuer: string,
    audience: readonly string[],
    fetch: { caFile?: string | undefined; fetchTokenFile?: string | undefined } = {},
  ): JwtSettings {
    if (audience.length === 0 && prefix === "KNSTATE_JWT") this.problem("KNSTATE_JWT_AUDIENCE is required");
    const algorithms = this.list(`${prefix}_ALGORITHMS`);
    for (const alg of algorithms)
      if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))
        this.problem(
          `${prefix}_ALGORITHMS: "${alg}" is not allowed; use ${ASYMMETRIC_ALGORITHMS.join(", ")}`,
        );
    return {
      issuer,
      audience,
      algorithms: algorithms.length > 0 ? algorithms : [...ASYMMETRIC_ALGORITHMS],
      clockSkewSeconds: this.seconds(`${prefix}_CLOCK_SKEW`, 30),
      keys,
      jwksCooldownMs: this.seconds(`${prefix}_JWKS_COOLDOWN`, 30) * 1000,
      jwksMaxAgeMs: this.seconds(`${prefix}_JWKS_MAX_AGE`, 600) * 1000,
      jwksTimeoutMs: this.seconds(`${prefix}_JWKS_TIMEOUT`, 5) * 1000,
      cacheMaxAgeMs: this.seconds(`${prefix}_CACHE_MAX_AGE`, 60) * 1000,
      caFile: fetch.caFile,
      fetchTokenFile: fetch.fetchTokenFile,
    };
  }
}
