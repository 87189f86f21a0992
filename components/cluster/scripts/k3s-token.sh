#!/usr/bin/env bash
# Write the cluster join token (read from stdin) where k3s's `token-file` points.
# A command of its own, with logging off, so the install step that follows holds no secret
# and can log freely. Prints nothing.
set -euo pipefail
token=$(cat)
[[ -n "$token" ]] || { echo "kvmesh: empty join token" >&2; exit 1; }
install -d -m 0700 /etc/rancher/k3s
(umask 077; printf '%s\n' "$token" >/etc/rancher/k3s/cluster-token.kvmesh-new)
mv /etc/rancher/k3s/cluster-token.kvmesh-new /etc/rancher/k3s/cluster-token
