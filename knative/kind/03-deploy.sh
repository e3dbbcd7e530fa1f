#!/usr/bin/env bash
# Builds the image, loads it into the kind node and applies knative/ (Redis, the three
# functions, the Broker, Triggers and the SinkBinding); waits until everything is ready.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need docker "https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/"
need kubectl "https://kubernetes.io/docs/tasks/tools/"

log "building ${IMAGE}"
docker build -t "${IMAGE}" "${REPO_ROOT}"
log "loading ${IMAGE} into kind cluster ${CLUSTER_NAME}"
kind load docker-image "${IMAGE}" --name "${CLUSTER_NAME}"

log "applying knative/ to namespace ${NAMESPACE}"
# The webhooks may still be starting right after the install: retry.
retry 5 10 kctl -n "${NAMESPACE}" apply -k "${REPO_ROOT}/knative/base"
kctl -n "${NAMESPACE}" rollout status statefulset/redis --timeout=180s ||
  die "Redis did not start (kubectl -n ${NAMESPACE} describe pod redis-0)"
for ksvc in counter cart echo dead-letters; do
  kctl -n "${NAMESPACE}" wait "ksvc/${ksvc}" --for=condition=Ready --timeout=300s ||
    die "ksvc/${ksvc} is not ready (kubectl -n ${NAMESPACE} describe ksvc ${ksvc})"
done
kctl -n "${NAMESPACE}" wait broker/default --for=condition=Ready --timeout=120s ||
  die "broker/default is not ready"
for trigger in counter cart echo; do
  kctl -n "${NAMESPACE}" wait "trigger/${trigger}" --for=condition=Ready --timeout=120s ||
    die "trigger/${trigger} is not ready"
done
kctl -n "${NAMESPACE}" wait sinkbinding/counter-events --for=condition=Ready --timeout=120s ||
  die "sinkbinding/counter-events is not ready"
kctl -n "${NAMESPACE}" get ksvc
