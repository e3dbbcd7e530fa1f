#!/usr/bin/env bash
# Shared helpers of the kind scripts: sourced, never run.
# shellcheck shell=bash

# shellcheck disable=SC2034 # the variables are used by the scripts that source this file
KIND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${KIND_DIR}/../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "${KIND_DIR}/versions.env"

CLUSTER_NAME="${CLUSTER_NAME:-knstate}"
NAMESPACE="${NAMESPACE:-default}"
IMAGE="${IMAGE:-dev.local/knstate:0.1.0}"
# Host port that reaches Kourier (ksvc URLs are http://<name>.<namespace>.127.0.0.1.sslip.io:<port>).
INGRESS_PORT="${INGRESS_PORT:-8080}"
KUBE_CONTEXT="kind-${CLUSTER_NAME}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# need <command> <how to install>
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"
}

kctl() { kubectl --context "${KUBE_CONTEXT}" "$@"; }

# retry <attempts> <seconds between> <command...>: for steps that race with webhooks starting.
retry() {
  local attempts="$1" delay="$2" i
  shift 2
  for ((i = 1; i <= attempts; i++)); do
    if "$@"; then return 0; fi
    log "attempt ${i}/${attempts} failed: $*"
    sleep "${delay}"
  done
  die "gave up after ${attempts} attempts: $*"
}

# apply_url <url>: kubectl apply of a release manifest (idempotent).
apply_url() {
  retry 5 5 kctl apply -f "$1"
}

# wait_deployments <namespace>: every Deployment in it Available.
wait_deployments() {
  kctl -n "$1" wait deployment --all --for=condition=Available --timeout=300s ||
    die "deployments in namespace $1 did not become available (kubectl -n $1 get pods)"
}
