#!/usr/bin/env bash
# The whole story on the local cluster, with real output, in about two
# minutes: incidents are reported, the account is Warned, then in
# FinalNotice with its namespace frozen, a person approves, it is Terminated
# with its pods gone and its developers' access revoked, and reinstatement
# brings everything back exactly.
#
# Run `make run-local` in one terminal, then `make demo` in another (or
# KUBECONFIG=... hack/demo.sh against any cluster with the operator, its
# controllers and nodes that run pods). It uses config/samples/local, whose
# policy has a 30-second notice period: for the demo only.
set -euo pipefail
cd "$(dirname "$0")/.."

export KUBECONFIG="${KUBECONFIG:-$PWD/.local/kubeconfig}"
export PATH="${DEMO_PLUGIN_DIR:-$PWD/bin}:$PATH"   # kubectl-account, from make plugin
TENANT_USER=wile@acme.example
TIMEOUT="${DEMO_TIMEOUT:-90s}"

step() { printf '\n== %s\n' "$*"; }
# show prints a command as you would type it.
show() {
  local out="\$" a
  for a in "$@"; do
    if [[ "$a" =~ [[:space:]\;\'] ]]; then out+=" '${a//\'/\'\\\'\'}'"; else out+=" $a"; fi
  done
  echo "$out"
}
run() { show "$@"; "$@"; }
# refused runs a command that must be refused, and shows the refusal.
refused() {
  show "$@"
  if out=$("$@" 2>&1); then
    echo "$out"
    echo "DEMO FAILED: that should have been refused" >&2
    exit 1
  fi
  echo "$out"
}
phase() { kubectl wait --for=jsonpath='{.status.phase}'="$1" customeraccount/acme --timeout="$TIMEOUT" >/dev/null; }

command -v kubectl-account >/dev/null || { echo "bin/kubectl-account is missing: run make plugin (make demo does)" >&2; exit 1; }
kubectl get --raw /readyz >/dev/null || { echo "no cluster at $KUBECONFIG: start one with make run-local" >&2; exit 1; }

step "Clean slate: remove an earlier demo run, if any"
kubectl delete customeraccount acme --ignore-not-found --wait=true
kubectl delete namespace acme-shop --ignore-not-found --wait=true

step "A policy for the demo (30 s notice period) and the tenant acme: a shop of 3 pods, developers bound to edit"
run kubectl apply -f config/samples/local/demo-policy.yaml
run kubectl apply -f config/samples/local/demo-tenant.yaml
run kubectl rollout status deployment/shop -n acme-shop --timeout="$TIMEOUT"
run kubectl get pods -n acme-shop
run kubectl --as="$TENANT_USER" create configmap greeting -n acme-shop --from-literal=hello=world
phase Good
run kubectl get customeraccount acme

step "Support reports a flood of tickets (Major: 2 points): Warned"
run kubectl account report acme --id ticket-flood --category SupportLoad --severity Major \
  --summary 'Opened 40 tickets in one day for questions answered in the docs.'
phase Warned
run kubectl get customeraccount acme

step "Abuse of the on-call engineer (Major: 2 more, 4 in all): FinalNotice, the namespace is frozen"
run kubectl account report acme --id shouted-at-oncall --category Abuse --severity Major \
  --summary 'Shouted at the on-call engineer during an incident call.'
phase FinalNotice
run kubectl get customeraccount acme
sleep 1 # the API server's admission sees the frozen label a moment later
refused kubectl --as="$TENANT_USER" create configmap frozen -n acme-shop --from-literal=try=again
run kubectl --as="$TENANT_USER" get configmaps -n acme-shop   # reads still work

step "Unpaid invoices (Critical: 3 more, 7 in all, past the termination threshold of 6): termination waits for a person"
run kubectl account report acme --id unpaid-invoices --category NonPayment --severity Critical \
  --summary 'Three invoices unpaid after three reminders.'
run kubectl account explain acme

step "A senior manager approves; after the 30 s notice period the account is Terminated"
run kubectl account approve acme --by support-director --note 'Reviewed the ticket history and the call recording.'
phase Terminated
run kubectl get customeraccount acme
run kubectl wait --for=delete pod -l app=shop -n acme-shop --timeout="$TIMEOUT"
run kubectl get pods -n acme-shop
refused kubectl --as="$TENANT_USER" get configmaps -n acme-shop   # access revoked: RBAC refuses even reads
uid=$(kubectl get customeraccount acme -o jsonpath='{.metadata.uid}')
run kubectl get events.events.k8s.io --field-selector regarding.uid="$uid",reason=AccessRestricted -o custom-columns=REASON:.reason,NOTE:.note

step "The customer settles: reinstated, everything is back as it was"
sleep 1 # a reinstatement lifts only a termination from before it (whole seconds)
run kubectl account reinstate acme --by support-director --reason 'Invoices paid; new point of contact agreed.'
phase Good
run kubectl rollout status deployment/shop -n acme-shop --timeout="$TIMEOUT"
run kubectl get pods -n acme-shop
# The freeze is lifted last, once everything else is back, so that the
# tenant cannot race the restore: wait for the account to say so.
run kubectl wait --for=condition=AccessRestricted=False customeraccount/acme --timeout="$TIMEOUT"
run kubectl --as="$TENANT_USER" create configmap welcome-back -n acme-shop --from-literal=hello=again
run kubectl get rolebinding acme-developers -n acme-shop
run kubectl get customeraccount acme

step "Done: Good -> Warned -> FinalNotice -> Terminated -> Good, every restriction seen to bite and lifted"
