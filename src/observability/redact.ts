/**
 * A URL fit for a log line: the password (and any `password`/`token`-like query parameter)
 * replaced by `***`. Text that is not a URL is returned as is when it has no `user:pass@`.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
  }
  let changed = false;
  if (parsed.password !== "") {
    parsed.password = "***";
    changed = true;
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token|key|auth/i.test(key)) {
      parsed.searchParams.set(key, "***");
      changed = true;
    }
  }
  return changed ? parsed.toString() : url;
}
