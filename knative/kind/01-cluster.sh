#!/usr/bin/env bash
# Creates the kind cluster (skipped when it exists), with the Kourier NodePort mapped to the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need docker "https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation (>= ${KIND_VERSION_MIN})"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (is it running?)"
kind_version="$(kind version | sed -n 's/^kind v\([0-9.]*\).*/\1/p')"
if [[ "$(printf '%s\n%s\n' "${KIND_VERSION_MIN}" "${kind_version:-0}" | sort -V | head -n 1)" != "${KIND_VERSION_MIN}" ]]; then
  die "kind ${kind_version:-unknown} is too old: ${KIND_VERSION_MIN} or later is required"
fi

if kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
  log "kind cluster ${CLUSTER_NAME} exists"
else
  log "creating kind cluster ${CLUSTER_NAME} (${KIND_NODE_IMAGE})"
  kind create cluster --name "${CLUSTER_NAME}" --image "${KIND_NODE_IMAGE}" --wait 120s --config - <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraPortMappings:
      - containerPort: 31080
        hostPort: ${INGRESS_PORT}
        listenAddress: "127.0.0.1"
YAML
fi
kctl cluster-info >/dev/null || die "cannot reach cluster ${KUBE_CONTEXT}"
