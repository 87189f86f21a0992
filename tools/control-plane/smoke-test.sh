#!/usr/bin/env bash
# End-to-end check of the local control plane with curl only (no kubectl):
# start it, create a namespace and a one-replica Deployment, wait until its Pod
# is bound to a kwok Node and Ready, delete the namespace and wait until the
# namespace controller has removed it, then stop everything and check that no
# process of the run is left.
#
# Usage: tools/control-plane/smoke-test.sh BINDIR[:BINDIR...] [WORKDIR]
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
  echo "usage: $0 BINDIR[:BINDIR...] [WORKDIR]" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workdir="${2:-$(mktemp -d /tmp/kube-smoke.XXXXXX)}"
passed=0
failed=0

trap '"$here/stop-control-plane.sh" "$workdir" || true' EXIT

t0=$SECONDS
"$here/start-control-plane.sh" "$1" "$workdir" >/dev/null
echo "smoke: control plane up in $((SECONDS - t0))s"
# shellcheck source=/dev/null
. "$workdir/env"

api() {
  curl -fsS --max-time 10 --cacert "$KUBE_CA" \
    -H "Authorization: Bearer $KUBE_TOKEN" "$@"
}
# until_ok SECONDS CMD...: retry CMD every 0.5 s for up to SECONDS.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
check() {
  local what="$1"
  shift
  if "$@"; then
    echo "ok: $what"
    passed=$((passed + 1))
  else
    echo "FAIL: $what"
    failed=$((failed + 1))
  fi
}

ns=smoke
pods_json() { api "$KUBE_SERVER/api/v1/namespaces/$ns/pods?labelSelector=app%3Dweb&pretty=0"; }
pod_ready() {
  local j
  j="$(pods_json)"
  grep -q '"nodeName":"kwok-node-' <<<"$j" &&
    grep -q '"type":"Ready","status":"True"' <<<"$j"
}
ns_gone() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$KUBE_CA" \
    -H "Authorization: Bearer $KUBE_TOKEN" "$KUBE_SERVER/api/v1/namespaces/$ns")"
  [ "$code" = 404 ]
}

check "readyz" test "$(api "$KUBE_SERVER/readyz")" = ok
check "create namespace" api -o /dev/null -X POST -H 'Content-Type: application/json' \
  "$KUBE_SERVER/api/v1/namespaces" \
  -d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}"
check "create deployment" api -o /dev/null -X POST -H 'Content-Type: application/json' \
  "$KUBE_SERVER/apis/apps/v1/namespaces/$ns/deployments" -d @- <<'EOF'
{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "web"},
  "spec": {
    "replicas": 1,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1"}]}
    }
  }
}
EOF
t1=$SECONDS
check "pod bound to a kwok node and Ready" until_ok 60 pod_ready
echo "smoke: pod Ready $((SECONDS - t1))s after the Deployment was created"
check "delete namespace" api -o /dev/null -X DELETE "$KUBE_SERVER/api/v1/namespaces/$ns"
t1=$SECONDS
check "namespace finalized and gone" until_ok 90 ns_gone
echo "smoke: namespace gone $((SECONDS - t1))s after delete"

started_pids="$(cat "$workdir"/pids/*.pid)"
"$here/stop-control-plane.sh" "$workdir"
# A process counts as left while it exists and is not a zombie (an exited
# child that init has not reaped yet).
none_left() {
  local pid state
  for pid in $started_pids; do
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    if [ -n "$state" ] && [ "$state" != Z ]; then
      echo "still running: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline")"
      return 1
    fi
  done
}
check "no process left ($(wc -w <<<"$started_pids") stopped)" none_left
trap - EXIT
rm -rf "$workdir"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
