#!/usr/bin/env bash
# Print the cluster's join token and admin kubeconfig, base64-encoded, one per line.
# The caller stores this output as a Pulumi secret and never logs it.
set -euo pipefail
for _ in $(seq 1 60); do
    [[ -s /var/lib/rancher/k3s/server/token && -s /etc/rancher/k3s/k3s.yaml ]] && break
    sleep 2
done
base64 -w0 /var/lib/rancher/k3s/server/token
echo
base64 -w0 /etc/rancher/k3s/k3s.yaml
echo
