#!/usr/bin/env bash
# On the first server, when node NODE_NAME leaves the stack: drain it, then delete its Node
# object. For a server, k3s's etcd member controller then removes its etcd member, so the
# remaining servers keep a quorum of the right size. A node or cluster already gone is done.
set -euo pipefail
: "${NODE_NAME:?NODE_NAME is required}" "${DRAIN_TIMEOUT:=5m}"
if ! command -v k3s >/dev/null; then
    echo "$0: k3s is not installed on this server; nothing to remove $NODE_NAME from"
    exit 0
fi
# k3s may be restarting (its config changed in the same update): wait for it rather than skip
# the removal, which would leave a server's etcd member behind.
for _ in $(seq 1 "${API_WAIT_SECONDS:-180}"); do
    k3s kubectl get --raw=/readyz >/dev/null 2>&1 && break
    sleep 1
done
k3s kubectl get --raw=/readyz >/dev/null || {
    echo "$0: the API server on this server is not ready; $NODE_NAME was not removed. Fix the cluster and run pulumi up again" >&2
    exit 1
}
if ! k3s kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
    echo "$0: node $NODE_NAME is not in the cluster"
    exit 0
fi
# A PodDisruptionBudget can hold a drain forever (all replicas on this node, say): after the timeout
# the node is deleted anyway and its pods are rescheduled elsewhere. --force: pods no controller
# owns would go with the node in any case.
if ! k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --timeout="$DRAIN_TIMEOUT"; then
    echo "$0: drain of $NODE_NAME did not finish in $DRAIN_TIMEOUT; deleting the node anyway" >&2
fi
k3s kubectl delete node "$NODE_NAME" --ignore-not-found
