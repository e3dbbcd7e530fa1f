#!/usr/bin/env bash
# The whole end-to-end run: cluster, Knative, deploy, smoke checks. KEEP=1 keeps the cluster.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"${dir}/01-cluster.sh"
"${dir}/02-knative.sh"
"${dir}/03-deploy.sh"
"${dir}/04-smoke.sh"
if [[ "${KEEP:-0}" != 1 ]]; then
  "${dir}/05-teardown.sh"
fi
