#!/usr/bin/env bash
# End-to-end checks against the deployed functions: commands over HTTP through Kourier (replies
# and state), commands through the Broker (state changes), then scale to zero and back.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need curl "your package manager"
need kubectl "https://kubernetes.io/docs/tasks/tools/"

host_of() { printf '%s.%s.127.0.0.1.sslip.io' "$1" "${NAMESPACE}"; }
ingress="http://127.0.0.1:${INGRESS_PORT}"
run_id="$(date +%s)"
entity="smoke-${run_id}"

# post_event <service> <type> <subject or ""> <json> -> prints the response headers and body
post_event() {
  local headers=(-H "Host: $(host_of "$1")" -H 'ce-specversion: 1.0' -H "ce-id: ${run_id}-${RANDOM}"
    -H 'ce-source: /kind-smoke' -H "ce-type: $2" -H 'content-type: application/json')
  if [[ -n "$3" ]]; then headers+=(-H "ce-subject: $3"); fi
  curl -sS --fail-with-body --max-time 60 -D - -X POST "${ingress}/" "${headers[@]}" -d "$4"
}

# counter_value <id> -> the counter's current value
counter_value() {
  curl -sS --fail-with-body --max-time 60 -H "Host: $(host_of counter)" "${ingress}/counter/$1" |
    sed -n 's/.*"value":\([-0-9]*\).*/\1/p'
}

log "command over HTTP: counter ${entity} += 2"
reply="$(post_event counter com.example.counter.increment "${entity}" '{"by":2}')"
grep -qi '^ce-type: com.example.counter.increment.reply' <<<"${reply}" || die "no reply event: ${reply}"
grep -q '"value":2' <<<"${reply}" || die "unexpected reply: ${reply}"

log "action over HTTP: echo"
reply="$(post_event echo com.example.echo.say "" '{"hello":"kind"}')"
grep -q '"hello":"kind"' <<<"${reply}" || die "echo did not echo: ${reply}"

log "command through the Broker: counter ${entity} += 3"
pf_log="$(mktemp)"
kctl -n knative-eventing port-forward svc/broker-ingress 18081:80 >"${pf_log}" 2>&1 &
pf_pid=$!
trap 'kill "${pf_pid}" 2>/dev/null || true; rm -f "${pf_log}"' EXIT
for _ in $(seq 1 50); do
  grep -q 'Forwarding from' "${pf_log}" && break
  sleep 0.2
done
status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -X POST \
  "http://127.0.0.1:18081/${NAMESPACE}/default" \
  -H 'ce-specversion: 1.0' -H "ce-id: ${run_id}-broker" -H 'ce-source: /kind-smoke' \
  -H 'ce-type: com.example.counter.increment' -H "ce-subject: ${entity}" \
  -H 'content-type: application/json' -d '{"by":3}')"
[[ "${status}" == 202 ]] || die "the Broker answered ${status}, expected 202"
value=""
for _ in $(seq 1 60); do
  value="$(counter_value "${entity}" || true)"
  [[ "${value}" == 5 ]] && break
  sleep 1
done
[[ "${value}" == 5 ]] || die "counter ${entity} is ${value:-unknown} after the Broker delivery, expected 5"

log "state survives scale to zero (waiting up to 5 minutes for counter to have no pods)"
zero=""
for _ in $(seq 1 60); do
  pods="$(kctl -n "${NAMESPACE}" get pods -l serving.knative.dev/service=counter --no-headers 2>/dev/null | wc -l)"
  if [[ "${pods}" -eq 0 ]]; then
    zero=yes
    break
  fi
  sleep 5
done
[[ -n "${zero}" ]] || die "counter did not scale to zero"
log "scaled to zero; a request wakes it"
value="$(counter_value "${entity}")"
[[ "${value}" == 5 ]] || die "after scale from zero counter ${entity} is ${value:-unknown}, expected 5"
log "all checks passed"
