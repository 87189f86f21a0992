#!/usr/bin/env bash
# Delete a libvirt volume; a volume that is already gone is not an error.
# Env: LIBVIRT_URI POOL VOLUME
set -euo pipefail
virsh_() { virsh --quiet --connect "$LIBVIRT_URI" "$@"; }

if ! virsh_ pool-info "$POOL" >/dev/null 2>&1; then
    echo "pool $POOL is gone; nothing to delete"
    exit 0
fi
virsh_ pool-refresh "$POOL" >/dev/null || true
if virsh_ vol-info --pool "$POOL" "$VOLUME" >/dev/null 2>&1; then
    virsh_ vol-delete --pool "$POOL" "$VOLUME" >/dev/null
    echo "volume $POOL/$VOLUME deleted"
else
    echo "volume $POOL/$VOLUME already gone"
fi
