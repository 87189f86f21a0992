#!/usr/bin/env bash
# Start a throw-away Kubernetes control plane on loopback for end-to-end tests:
#   etcd -> kube-apiserver -> kube-controller-manager + kube-scheduler -> kwok,
# then register fake Nodes that kwok keeps Ready (and whose Pods kwok makes
# Running/Ready without running anything).
#
# Usage: start-control-plane.sh BINDIR WORKDIR
#   BINDIR   directory, or ':'-separated directories searched in order, with
#            kube-apiserver, kube-controller-manager, kube-scheduler and the etcd
#            link (tools/kube/build.sh) and kwok (tools/kube-kwok/build.sh);
#            etcd is otherwise taken from PATH.
#            e.g. start-control-plane.sh "$KUBE_BIN:$KWOK_BIN" /tmp/e2e-kube
#   WORKDIR  is created if needed; everything (certs, etcd data, logs, pids,
#            kubeconfig) stays inside it. Stop with stop-control-plane.sh WORKDIR,
#            which works after a failed or half-done start too.
# Environment (all optional):
#   KUBE_NODES=1            fake Nodes to register (kwok-node-0 .. N-1)
#   KUBE_START_TIMEOUT=120  seconds to wait for each readiness step
#   KUBE_ETCD_PORT, KUBE_ETCD_PEER_PORT, KUBE_APISERVER_PORT,
#   KUBE_CONTROLLER_MANAGER_PORT, KUBE_SCHEDULER_PORT
#                           fixed ports (default: random free ports, 20000-32767)
# On success prints the admin kubeconfig path (WORKDIR/kubeconfig) on stdout
# and writes WORKDIR/env (shell syntax: KUBECONFIG, KUBE_SERVER, KUBE_TOKEN,
# KUBE_CA, ports). Progress goes to stderr; logs to WORKDIR/logs/*.log.
#
# Webhooks: kube-apiserver runs with the MutatingAdmissionWebhook and
# ValidatingAdmissionWebhook admission plugins DISABLED. Istio's charts register
# webhooks that point at the istiod Service, but here no process backs any
# Service (kwok Pods are fake, there is no kube-proxy), so:
#   - the sidecar-injector MutatingWebhookConfiguration has failurePolicy: Fail,
#     so every Pod created in an injection-enabled namespace would be rejected;
#   - the validator (failurePolicy: Ignore until istiod patches it to Fail, which
#     never happens here) would still be called on every Istio resource write:
#     each call waits for the connection to time out (up to the webhook's
#     timeoutSeconds, 10 s by default);
#   - the API server calls a webhook Service through its ClusterIP, an address
#     off loopback, and tests must keep all traffic on this machine.
# With both plugins disabled the WebhookConfiguration objects are still
# accepted and stored (so the charts install and can be inspected), they are
# just never called. CRD conversion webhooks and APIService backends are not
# affected by this; Istio uses neither.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 BINDIR WORKDIR" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bindirs="$1"
mkdir -p "$2"
workdir="$(cd "$2" && pwd)"

nodes="${KUBE_NODES:-1}"
timeout="${KUBE_START_TIMEOUT:-120}"
# Service network: only ever stored in objects (no kube-proxy), never dialled,
# since webhooks are off (see above).
service_cidr="10.96.0.0/16"
service_ip="10.96.0.1"
pod_cidr="10.244.0.1/16" # kwok hands out Pod IPs from here

pki="$workdir/pki"
logs="$workdir/logs"
pids="$workdir/pids"

log() { echo "kube: $*" >&2; }

# find_bin NAME HINT: absolute path of NAME in the BINDIR list (then PATH for
# etcd).
find_bin() {
  local d
  local -a dirs
  IFS=: read -r -a dirs <<<"$bindirs"
  for d in "${dirs[@]}"; do
    if [ -n "$d" ] && [ -x "$d/$1" ]; then
      echo "$(cd "$d" && pwd)/$1"
      return 0
    fi
  done
  if [ "$1" = etcd ] && command -v etcd >/dev/null 2>&1; then
    command -v etcd
    return 0
  fi
  log "$1 not found in $bindirs ($2)"
  return 1
}
apiserver_bin="$(find_bin kube-apiserver "tools/kube/build.sh")"
kcm_bin="$(find_bin kube-controller-manager "tools/kube/build.sh")"
scheduler_bin="$(find_bin kube-scheduler "tools/kube/build.sh")"
kwok_bin="$(find_bin kwok "tools/kube-kwok/build.sh")"
etcd_bin="$(find_bin etcd "apt-get install etcd-server")"
command -v openssl >/dev/null || { log "openssl not found"; exit 1; }
command -v curl >/dev/null || { log "curl not found"; exit 1; }

if [ -d "$pids" ] && [ -n "$(ls -A "$pids" 2>/dev/null)" ]; then
  log "$workdir already has running components; stopping them first"
  "$here/stop-control-plane.sh" "$workdir" >&2 || true
fi
rm -rf "$pki" "$logs" "$pids" "$workdir/etcd" "$workdir/kubeconfig" "$workdir/env"
mkdir -p "$pki" "$logs" "$pids"

# If anything below fails, stop what was started and show the logs' tails.
# fd 9 keeps our stderr: a signal can arrive while a readiness check runs with
# stderr sent to /dev/null, and the EXIT trap then runs in that redirection.
exec 9>&2
started_ok=0
on_exit() {
  local rc=$?
  exec 2>&9
  if [ "$started_ok" -ne 1 ]; then
    log "start failed (exit $rc); last log lines:"
    local f
    for f in "$logs"/*.log; do
      [ -f "$f" ] || continue
      echo "----- $f" >&2
      tail -n 25 "$f" >&2
    done
    "$here/stop-control-plane.sh" "$workdir" >&2 || true
  fi
}
trap on_exit EXIT
# Also clean up when interrupted or terminated (e.g. a test runner's timeout).
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---------------------------------------------------------------- ports
used_ports=" "
port=""
# Sets $port to a free loopback port below the ephemeral range.
pick_port() {
  local p
  for _ in $(seq 1 500); do
    p=$(( (RANDOM * 32768 + RANDOM) % 12768 + 20000 ))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      port="$p"
      return 0
    fi
  done
  log "no free port found"
  return 1
}
port_or_pick() {
  if [ -n "${1:-}" ]; then
    port="$1"
    used_ports+="$1 "
  else
    pick_port
  fi
}
port_or_pick "${KUBE_ETCD_PORT:-}"; etcd_port="$port"
port_or_pick "${KUBE_ETCD_PEER_PORT:-}"; etcd_peer_port="$port"
port_or_pick "${KUBE_APISERVER_PORT:-}"; api_port="$port"
port_or_pick "${KUBE_CONTROLLER_MANAGER_PORT:-}"; kcm_port="$port"
port_or_pick "${KUBE_SCHEDULER_PORT:-}"; sched_port="$port"
server="https://127.0.0.1:$api_port"

# ---------------------------------------------------------------- certificates
# EC P-256 keys: fast to generate and accepted by every component (service
# account tokens are then signed with ES256).
t0=$SECONDS
openssl_q() { openssl "$@" 2>>"$logs/openssl.log"; }
genkey() { openssl_q ecparam -name prime256v1 -genkey -noout -out "$1"; }

genkey "$pki/ca.key"
openssl_q req -x509 -new -key "$pki/ca.key" -days 30 -subj "/CN=kvmesh-e2e-ca" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
  -out "$pki/ca.crt"

# issue NAME SUBJECT EXTENSIONS: NAME.key + NAME.crt signed by the CA.
issue() {
  local name="$1" subj="$2" ext="$3"
  genkey "$pki/$name.key"
  openssl_q req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr"
  printf '%s\n' "$ext" >"$pki/$name.ext"
  openssl_q x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 30 -extfile "$pki/$name.ext" -out "$pki/$name.crt"
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}
client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
issue apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$service_ip"
issue admin "/O=system:masters/CN=kubernetes-admin" "$client_ext"
issue controller-manager "/CN=system:kube-controller-manager" "$client_ext"
issue scheduler "/CN=system:kube-scheduler" "$client_ext"
# Service-account token signing key pair.
genkey "$pki/sa.key"
openssl_q ec -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
# A static bearer token for the same admin identity (handy for plain HTTP
# clients: `curl --cacert $KUBE_CA -H "Authorization: Bearer $KUBE_TOKEN"`).
token="$(openssl rand -hex 24)"
printf '%s,kvmesh-admin,kvmesh-admin,system:masters\n' "$token" >"$pki/tokens.csv"
printf '%s\n' "$token" >"$workdir/admin.token"
chmod 600 "$pki"/*.key "$pki/tokens.csv" "$workdir/admin.token"
log "certificates generated in $((SECONDS - t0))s"

b64() { base64 <"$1" | tr -d '\n'; }
# kubeconfig FILE USER CERT-NAME
kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kvmesh-e2e
  cluster:
    server: $server
    certificate-authority-data: $(b64 "$pki/ca.crt")
contexts:
- name: kvmesh-e2e
  context:
    cluster: kvmesh-e2e
    user: $2
current-context: kvmesh-e2e
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$pki/$3.crt")
    client-key-data: $(b64 "$pki/$3.key")
EOF
  chmod 600 "$1"
}
kubeconfig "$workdir/kubeconfig" kvmesh-admin admin
kubeconfig "$pki/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
kubeconfig "$pki/scheduler.kubeconfig" system:kube-scheduler scheduler

# ---------------------------------------------------------------- processes
# start NAME BINARY ARGS...: background, detached from our stdio and fd 9 (so
# a caller reading our output is not held open), pid in $pids/NAME.pid.
start() {
  local name="$1"
  shift
  "$@" </dev/null >"$logs/$name.log" 2>&1 9>&- &
  echo "$!" >"$pids/$name.pid"
}
alive() {
  local pid
  pid="$(cat "$pids/$1.pid")"
  kill -0 "$pid" 2>/dev/null
}
# wait_for WHAT COMPONENT CMD...: retry CMD until it succeeds; fail early if
# COMPONENT died, or after $timeout seconds.
wait_for() {
  local what="$1" comp="$2" deadline=$((SECONDS + timeout))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ! alive "$comp"; then
      log "$comp exited while waiting for $what"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.3
  done
  log "$what after $((SECONDS - t_start))s"
}
api() {
  curl -fsS --max-time 10 --cacert "$pki/ca.crt" \
    --cert "$pki/admin.crt" --key "$pki/admin.key" "$@"
}
api_get_ok() { api -o /dev/null "$server$1"; }
readyz() { [ "$(api "$server/readyz")" = "ok" ]; }
node_ready() {
  api "$server/api/v1/nodes/$1?pretty=0" |
    grep -q '"type":"Ready","status":"True"'
}

t_start=$SECONDS
start etcd "$etcd_bin" \
  --name=kvmesh-e2e \
  --data-dir="$workdir/etcd" \
  --listen-client-urls="http://127.0.0.1:$etcd_port" \
  --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster="kvmesh-e2e=http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster-state=new \
  --logger=zap
wait_for "etcd healthy" etcd \
  curl -fsS --max-time 5 "http://127.0.0.1:$etcd_port/health"

# --endpoint-reconciler-type=none: the Endpoints of Service default/kubernetes
#   would be the advertise address, which must not be loopback (validation
#   rejects 127.0.0.0/8); the Service itself is still created.
# Webhook admission plugins disabled: see the top of this file.
start kube-apiserver "$apiserver_bin" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --endpoint-reconciler-type=none \
  --secure-port="$api_port" \
  --cert-dir="$pki" \
  --tls-cert-file="$pki/apiserver.crt" \
  --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --token-auth-file="$pki/tokens.csv" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range="$service_cidr" \
  --authorization-mode=Node,RBAC \
  --disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
  --allow-privileged=true \
  --profiling=false
wait_for "kube-apiserver /readyz ok" kube-apiserver readyz

# --authentication-skip-lookup (here and for the scheduler): the API server has
# no front-proxy (requestheader) CA, so the lookup only logs errors.
start kube-controller-manager "$kcm_bin" \
  --kubeconfig="$pki/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$pki/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$pki/controller-manager.kubeconfig" \
  --authentication-skip-lookup=true \
  --bind-address=127.0.0.1 \
  --secure-port="$kcm_port" \
  --leader-elect=false \
  --controllers='*' \
  --use-service-account-credentials=true \
  --root-ca-file="$pki/ca.crt" \
  --service-account-private-key-file="$pki/sa.key" \
  --cluster-signing-cert-file="$pki/ca.crt" \
  --cluster-signing-key-file="$pki/ca.key" \
  --profiling=false

start kube-scheduler "$scheduler_bin" \
  --kubeconfig="$pki/scheduler.kubeconfig" \
  --authentication-kubeconfig="$pki/scheduler.kubeconfig" \
  --authorization-kubeconfig="$pki/scheduler.kubeconfig" \
  --authentication-skip-lookup=true \
  --bind-address=127.0.0.1 \
  --secure-port="$sched_port" \
  --leader-elect=false \
  --profiling=false

# kwok: only Nodes annotated kwok.x-k8s.io/node=fake; default (built-in) node
# and pod stages, so Pods bound to those Nodes become Running and Ready; plus
# one Stage of ours for LoadBalancer Services.
# Node IP 127.0.0.1 keeps anything that would try to reach a "node" on loopback.
cat >"$workdir/kwok.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  manageAllNodes: false
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  nodeIP: 127.0.0.1
  cidr: $pod_cidr
  nodeLeaseDurationSeconds: 40
---
# There is no cloud provider: give every LoadBalancer Service the ingress IP
# 127.0.0.1, so that awaits on its status (Pulumi, helm --wait; Istio's
# ingress gateway is a LoadBalancer) finish, and any traffic stays local.
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: service-load-balancer
spec:
  resourceRef:
    apiGroup: v1
    kind: Service
  selector:
    matchExpressions:
    - key: .spec.type
      operator: In
      values: [LoadBalancer]
    - key: .status.loadBalancer.ingress
      operator: DoesNotExist
  next:
    statusTemplate: |
      loadBalancer:
        ingress:
        - ip: 127.0.0.1
EOF
start kwok "$kwok_bin" \
  --config="$workdir/kwok.yaml" \
  --kubeconfig="$workdir/kubeconfig" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake

# Fake Nodes: roomy capacity (Istio's requests fit), no taints.
for i in $(seq 0 $((nodes - 1))); do
  name="kwok-node-$i"
  api -o /dev/null -X POST -H 'Content-Type: application/json' \
    "$server/api/v1/nodes" -d @- <<EOF
{
  "apiVersion": "v1",
  "kind": "Node",
  "metadata": {
    "name": "$name",
    "annotations": {
      "kwok.x-k8s.io/node": "fake",
      "node.alpha.kubernetes.io/ttl": "0"
    },
    "labels": {
      "type": "kwok",
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/os": "linux",
      "kubernetes.io/hostname": "$name",
      "topology.kubernetes.io/region": "kvmesh",
      "topology.kubernetes.io/zone": "kvmesh-$i"
    }
  },
  "status": {
    "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
    "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
    "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"}
  }
}
EOF
done

wait_for "namespace default" kube-apiserver api_get_ok /api/v1/namespaces/default
wait_for "serviceaccount default/default" kube-controller-manager \
  api_get_ok /api/v1/namespaces/default/serviceaccounts/default
for i in $(seq 0 $((nodes - 1))); do
  wait_for "node kwok-node-$i Ready" kwok node_ready "kwok-node-$i"
done
for c in kube-scheduler kube-controller-manager; do
  alive "$c" || { log "$c exited"; exit 1; }
done

cat >"$workdir/env" <<EOF
KUBECONFIG=$workdir/kubeconfig
KUBE_SERVER=$server
KUBE_CA=$pki/ca.crt
KUBE_TOKEN=$token
KUBE_ETCD_PORT=$etcd_port
KUBE_APISERVER_PORT=$api_port
KUBE_CONTROLLER_MANAGER_PORT=$kcm_port
KUBE_SCHEDULER_PORT=$sched_port
EOF
started_ok=1
log "control plane ready at $server in $((SECONDS - t_start))s (stop: $here/stop-control-plane.sh $workdir)"
echo "$workdir/kubeconfig"
