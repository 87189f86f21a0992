#!/usr/bin/env bash
# Remove k3s from a machine kvmesh does not own (an existing VPS), leaving it as it was
# before kvmesh: services, binaries, config, cluster data, CNI interfaces and iptables rules.
set -euo pipefail
for unit in k3s k3s-agent; do
    if systemctl list-unit-files "$unit.service" >/dev/null 2>&1; then
        systemctl disable --now "$unit" >/dev/null 2>&1 || true
        rm -f "/etc/systemd/system/$unit.service"
    fi
done
systemctl daemon-reload
# Containers keep running after k3s stops (KillMode=process): stop their shims.
pkill -f 'containerd-shim-runc-v2.*-namespace k8s.io' >/dev/null 2>&1 || true
for _ in $(seq 1 10); do
    pgrep -f containerd-shim >/dev/null || break
    sleep 1
done
grep -E ' /(run|var/lib)/(k3s|kubelet|rancher)' /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l || true
for link in cni0 flannel.1 flannel-v6.1 kube-ipvs0 flannel-wg; do
    ip link delete "$link" >/dev/null 2>&1 || true
done
if command -v iptables-save >/dev/null; then
    iptables-save | grep -v -E 'KUBE-|CNI-|flannel|cali-' | iptables-restore || true
fi
rm -rf /etc/rancher/k3s /etc/rancher/node /var/lib/rancher/k3s /var/lib/kubelet /run/k3s /var/lib/cni /run/flannel
rm -f /usr/local/bin/k3s /usr/local/bin/kubectl /usr/local/bin/crictl /usr/local/bin/ctr
echo "k3s removed from $(hostname)"
