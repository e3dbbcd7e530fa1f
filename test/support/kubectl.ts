import { spawnSync } from "node:child_process";

/**
 * `kubectl kustomize` (kustomize v4 or later, in kubectl 1.21+). Absent or too old: a loud skip
 * of `what`, or a failure when CI is set (`.ci/install-tools` installs kubectl).
 */
export function kustomizeAvailable(what: string): boolean {
  const version = spawnSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8" });
  let kustomize: string | undefined;
  try {
    kustomize = (JSON.parse(version.stdout) as { kustomizeVersion?: string }).kustomizeVersion;
  } catch {
    kustomize = undefined;
  }
  const major = Number(/^v(\d+)\./.exec(kustomize ?? "")?.[1] ?? 0);
  if (version.status === 0 && major >= 4) return true;
  const message =
    version.status === 0
      ? `kubectl's kustomize is ${kustomize ?? "unknown"}, older than v4: ${what} are SKIPPED (install kubectl 1.21 or later)`
      : `kubectl is not installed: ${what} are SKIPPED (install it: sudo bash .ci/install-tools)`;
  if (process.env.CI) throw new Error(`${message} (not allowed when CI is set)`);
  console.warn(`\n!!!!!!!!!! ${message} !!!!!!!!!!\n`);
  return false;
}

/** The YAML `kubectl kustomize <dir>` builds; throws with kubectl's message when it fails. */
export function kustomize(dir: string): string {
  const result = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  return result.stdout;
}
