#!/usr/bin/env bash
# Host firewall (ufw): deny inbound by default, allow only the rules kvmesh rendered.
# Idempotent: rules are compared with `ufw show added` and only rewritten when they differ.
# Arguments: one ufw rule per argument, e.g. "allow from 192.0.2.0/24 to any port 22 proto tcp".
set -euo pipefail
command -v ufw >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ufw >/dev/null; }

want=$(printf 'ufw %s\n' "$@" | sort)
have=$(ufw show added 2>/dev/null | grep '^ufw ' | sort || true)
active=$(ufw status | head -n1)

if [[ "$want" == "$have" && "$active" == "Status: active" ]]; then
    echo "firewall unchanged ($# rules)"
    exit 0
fi
# Reset disables ufw first, so the SSH session is never cut off mid-way.
ufw --force reset >/dev/null
ufw default deny incoming >/dev/null
ufw default allow outgoing >/dev/null
# Routed (pod) traffic keeps ufw's default; flannel and kube-proxy add their own FORWARD rules.
for rule in "$@"; do
    # shellcheck disable=SC2086 # each rule is a ufw argument list
    ufw $rule >/dev/null
done
ufw --force enable >/dev/null
echo "firewall applied ($# rules)"
