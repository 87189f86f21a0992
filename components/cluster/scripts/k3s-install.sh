#!/usr/bin/env bash
# Install or upgrade k3s to the pinned version with the rendered config. Idempotent: when the
# pinned binary, config, token and unit are already in place and running, nothing changes.
# Env: K3S_VERSION RELEASE_BASE_URL [K3S_SHA256] ROLE(server|agent) CONFIG_YAML DATA_MOUNT
# Joining nodes read the token from /etc/rancher/k3s/cluster-token (written by k3s-token.sh).
set -euo pipefail
fail() { echo "kvmesh: $*" >&2; exit 1; }
changed=0

[[ "$ROLE" == server || "$ROLE" == agent ]] || fail "ROLE must be server or agent"
mountpoint -q "$DATA_MOUNT" || fail "$DATA_MOUNT is not mounted; k3s data must live on the NVMe data volume"
[[ "$(uname -m)" == x86_64 ]] || fail "only x86_64 nodes are supported"

# 1. The binary, checked against a pinned SHA-256 or the release's checksum file.
if [[ "$(/usr/local/bin/k3s --version 2>/dev/null | head -n1 | awk '{print $3}')" != "$K3S_VERSION" ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    base="$RELEASE_BASE_URL/${K3S_VERSION//+/%2B}"
    curl -fsSL --retry 5 --retry-delay 3 -o "$tmp/k3s" "$base/k3s"
    if [[ -n "${K3S_SHA256:-}" ]]; then
        expected="$K3S_SHA256"
    else
        curl -fsSL --retry 5 -o "$tmp/sums" "$base/sha256sum-amd64.txt"
        expected=$(awk '$2 == "k3s" {print $1}' "$tmp/sums")
    fi
    [[ -n "$expected" ]] || fail "no checksum for k3s $K3S_VERSION"
    echo "$expected  $tmp/k3s" | sha256sum -c --quiet - || fail "k3s $K3S_VERSION does not match its SHA-256"
    install -m 0755 "$tmp/k3s" /usr/local/bin/k3s
    for tool in kubectl crictl ctr; do ln -sf k3s "/usr/local/bin/$tool"; done
    changed=1
    echo "installed k3s $K3S_VERSION"
fi

# Write a file only when its content differs; note the change.
put() { # path mode content
    if [[ ! -f "$1" ]] || [[ "$(cat "$1")" != "$3" ]]; then
        install -d -m 0755 "$(dirname "$1")"
        (umask 077; printf '%s\n' "$3" >"$1.kvmesh-new")
        chmod "$2" "$1.kvmesh-new"
        mv "$1.kvmesh-new" "$1"
        changed=1
    fi
}

# 2. Config. A changed join token (k3s-token.sh) also needs a restart to take effect.
put /etc/rancher/k3s/config.yaml 0600 "$CONFIG_YAML"
if [[ -f /etc/rancher/k3s/cluster-token && /etc/rancher/k3s/cluster-token -nt /etc/rancher/k3s/config.yaml ]]; then
    touch /etc/rancher/k3s/config.yaml
    changed=1
fi

# 3. The node's identity. k3s registers every node with a password (/etc/rancher/node/password)
# and refuses a later join under the same name with another one. A rebuilt VM gets a new root
# disk but keeps its data volume, so the password lives on the data volume.
identity="$DATA_MOUNT/k3s/node-identity"
if [[ "$(readlink /etc/rancher/node 2>/dev/null)" != "$identity" ]]; then
    install -d -m 0700 "$identity"
    if [[ -f /etc/rancher/node/password && ! -f "$identity/password" ]]; then
        cp -p /etc/rancher/node/password "$identity/password"
    fi
    rm -rf /etc/rancher/node
    install -d -m 0755 /etc/rancher
    ln -s "$identity" /etc/rancher/node
    changed=1
fi

# 4. The systemd unit.
if [[ "$ROLE" == server ]]; then unit=k3s; sub=server; else unit=k3s-agent; sub=agent; fi
put "/etc/systemd/system/$unit.service" 0644 "[Unit]
Description=Lightweight Kubernetes (kvmesh)
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target
RequiresMountsFor=$DATA_MOUNT

[Service]
Type=notify
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s $sub
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target"

systemctl daemon-reload
systemctl enable "$unit" >/dev/null 2>&1
if [[ $changed -eq 1 ]] || ! systemctl is-active --quiet "$unit"; then
    echo "starting $unit"
    systemctl restart "$unit"
fi

# 5. Wait until this node serves (server) or runs (agent).
for _ in $(seq 1 120); do
    if [[ "$ROLE" == server ]]; then
        /usr/local/bin/k3s kubectl get --raw /readyz >/dev/null 2>&1 && break
    else
        systemctl is-active --quiet "$unit" && break
    fi
    sleep 5
done
if [[ "$ROLE" == server ]]; then
    /usr/local/bin/k3s kubectl get --raw /readyz >/dev/null 2>&1 || fail "k3s server did not become ready; see journalctl -u $unit"
fi
if [[ $changed -eq 1 ]]; then echo "k3s $K3S_VERSION $ROLE configured"; else echo "k3s $K3S_VERSION $ROLE unchanged"; fi
