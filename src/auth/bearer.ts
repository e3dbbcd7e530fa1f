/** Request headers as Node gives them (lower-case names), or any record of them. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export type BearerResult =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "missing" }
  | { readonly kind: "malformed"; readonly reason: string };

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The credentials of `Authorization: Bearer <token>` (RFC 6750 §2.1); one header, one token. */
export function bearerToken(headers: RequestHeaders): BearerResult {
  let value = headers["authorization"];
  if (value === undefined) {
    for (const name of Object.keys(headers))
      if (name.toLowerCase() === "authorization") value = headers[name];
  }
  if (value === undefined || value === "") return { kind: "missing" };
  if (typeof value !== "string") {
    if (value.length !== 1) return { kind: "malformed", reason: "more than one Authorization header" };
    value = value[0] ?? "";
  }
  const match = BEARER.exec(value);
  if (!match?.[1]) return { kind: "malformed", reason: "Authorization is not a Bearer credential" };
  return { kind: "token", token: match[1] };
}
