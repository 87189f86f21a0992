#!/usr/bin/env bash
# On the first server: wait until node NODE_NAME has registered and is Ready, so `pulumi up`
# fails here, naming the node, when a join did not really work (wrong token, blocked port).
set -euo pipefail
: "${NODE_NAME:?NODE_NAME is required}" "${READY_TIMEOUT_SECONDS:=600}"
deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
until k3s kubectl get node "$NODE_NAME" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
        echo "$0: node $NODE_NAME did not register with the cluster in ${READY_TIMEOUT_SECONDS}s; see 'journalctl -u k3s-agent' (or k3s) on it" >&2
        exit 1
    fi
    sleep 5
done
k3s kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout="$((deadline > SECONDS ? deadline - SECONDS : 1))s"
