#!/usr/bin/env bash
# Installs Knative Serving with Kourier, and Knative Eventing with the in-memory channel and the
# MT channel-based broker, at the versions pinned in versions.env. Re-running it is harmless.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need kubectl "https://kubernetes.io/docs/tasks/tools/"
serving="https://github.com/knative/serving/releases/download/${KNATIVE_SERVING_VERSION}"
kourier="https://github.com/knative-extensions/net-kourier/releases/download/${KNATIVE_KOURIER_VERSION}"
eventing="https://github.com/knative/eventing/releases/download/${KNATIVE_EVENTING_VERSION}"

log "Knative Serving ${KNATIVE_SERVING_VERSION}"
apply_url "${serving}/serving-crds.yaml"
kctl wait crd --all --for=condition=Established --timeout=120s
apply_url "${serving}/serving-core.yaml"
wait_deployments knative-serving

log "Kourier ${KNATIVE_KOURIER_VERSION}"
apply_url "${kourier}/kourier.yaml"
wait_deployments kourier-system
kctl -n knative-serving patch configmap/config-network --type merge \
  -p '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'
kctl -n knative-serving patch configmap/config-domain --type merge -p '{"data":{"127.0.0.1.sslip.io":""}}'
# Reach Kourier from the host through the port kind maps (31080 -> INGRESS_PORT).
kctl apply -f - <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: kourier-ingress
  namespace: kourier-system
spec:
  type: NodePort
  selector:
    app: 3scale-kourier-gateway
  ports:
    - name: http2
      port: 80
      targetPort: 8080
      nodePort: 31080
YAML

log "Knative Eventing ${KNATIVE_EVENTING_VERSION}"
apply_url "${eventing}/eventing-crds.yaml"
kctl wait crd --all --for=condition=Established --timeout=120s
apply_url "${eventing}/eventing-core.yaml"
wait_deployments knative-eventing
apply_url "${eventing}/in-memory-channel.yaml"
apply_url "${eventing}/mt-channel-broker.yaml"
wait_deployments knative-eventing
log "Knative is installed"
