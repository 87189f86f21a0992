#!/usr/bin/env bash
# Wait until the node has finished first boot: cloud-init done (where present), data volume
# mounted, systemd settled. Runs on the node itself.
# Env: DATA_MOUNT
set -euo pipefail

if command -v cloud-init >/dev/null; then
    rc=0
    cloud-init status --wait >/dev/null || rc=$?
    # 0: done; 2: done with recoverable warnings (newer cloud-init). Anything else failed.
    if [[ $rc -ne 0 && $rc -ne 2 ]]; then
        cloud-init status --long >&2 || true
        echo "kvmesh: cloud-init failed on $(hostname); see /var/log/cloud-init-output.log" >&2
        exit 1
    fi
fi
if [[ -n "${DATA_MOUNT:-}" ]] && ! mountpoint -q "$DATA_MOUNT"; then
    echo "kvmesh: $DATA_MOUNT is not mounted on $(hostname); the data volume was not prepared" >&2
    exit 1
fi
systemctl is-system-running --wait >/dev/null 2>&1 || true
echo "$(hostname) ready: $(lsb_release -ds 2>/dev/null || uname -sr)"
