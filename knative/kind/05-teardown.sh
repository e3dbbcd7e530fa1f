#!/usr/bin/env bash
# Deletes the kind cluster (and everything in it). Harmless when it does not exist.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need kind "https://kind.sigs.k8s.io/"
if kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
  log "deleting kind cluster ${CLUSTER_NAME}"
  kind delete cluster --name "${CLUSTER_NAME}"
else
  log "no kind cluster ${CLUSTER_NAME}"
fi
