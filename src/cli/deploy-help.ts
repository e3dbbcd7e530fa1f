/** Help text of the deploy commands, apart from them so `knstate serve` never loads the Kubernetes client. */
export const DEPLOY_HELP = `  knstate manifest <function-dir> [--image IMG] [service and trigger options]
                                          print the function's Knative Service and Trigger as YAML
  knstate deploy <function-dir> --image IMG [service and trigger options] [--wait-timeout 300s] [--no-wait]
                                          server-side apply both through the current kubeconfig, wait for Ready
  knstate status <name> [--namespace NS]  revision, Ready condition, URL and replicas of a Service
  knstate delete <name> [--namespace NS]  delete a Service
  knstate secret redis --url redis://:PASSWORD@HOST:6379 [--name knstate-redis] [--namespace NS]
                                          print the Secret that --redis-secret names (kubectl apply -f -)`;

export const DEPLOY_OPTIONS_HELP = `service options:
  --name N  --namespace NS  --env K=V (repeatable)  --redis-secret NAME (key "url", default knstate-redis)
  --scale-min N  --scale-max N  --target N  --concurrency N  --timeout SECONDS  --function-path /app/dist/functions/X
  --public (reachable from outside the cluster; cluster-local otherwise)
trigger options (one Trigger per function: its command types, never its own replies or published events):
  --broker NAME (default)  --retry N (5)  --backoff-policy exponential|linear  --backoff-delay PT0.5S
  --dead-letter-sink SERVICE|URI  --no-trigger
sender identity (Knative Eventing's authentication-oidc feature):
  --events-auth oidc  --oidc-audience AUD (default serving.knative.dev/service/<namespace>/<name>): the
  Trigger's subscriber.audience, and KNSTATE_EVENTS_AUTH=oidc, KNSTATE_OIDC_AUDIENCE on the Service
outbox relay: --relay separate (a Deployment <name>-relay runs knstate relay, bound to --broker by a
  SinkBinding; the Service gets KNSTATE_OUTBOX_RELAY=false)  --relay-replicas N (2)
timers: --ping-schedule CRON (a PingSource wakes the Service for its timers; default "* * * * *"
  for functions that schedule timers; none: leave it out)`;
