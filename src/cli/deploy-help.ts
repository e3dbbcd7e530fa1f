/** Help text of the deploy commands, apart from them so `knstate serve` never loads the Kubernetes client. */
export const DEPLOY_HELP = `  knstate manifest <function-dir> --image IMG [service options]
                                          print the function's Knative Service as YAML
  knstate deploy <function-dir> --image IMG [service options] [--wait-timeout 300s] [--no-wait]
                                          server-side apply it through the current kubeconfig, wait for Ready
  knstate status <name> [--namespace NS]  revision, Ready condition, URL and replicas of a Service
  knstate delete <name> [--namespace NS]  delete a Service`;

export const DEPLOY_OPTIONS_HELP = `manifest and deploy options:
  --name N  --namespace NS  --env K=V (repeatable)  --redis-secret NAME (key "url")
  --scale-min N  --scale-max N  --target N  --concurrency N  --timeout SECONDS  --function-path /app/dist/functions/X`;
