#!/usr/bin/env bash
# Create a libvirt volume unless it already exists (a re-run changes nothing).
# Env: LIBVIRT_URI POOL VOLUME CAPACITY_GIB FORMAT (empty: the pool's default) [BACKING_VOLUME]
set -euo pipefail
virsh_() { virsh --quiet --connect "$LIBVIRT_URI" "$@"; }

if ! virsh_ pool-info "$POOL" >/dev/null 2>&1; then
    echo "kvmesh: storage pool '$POOL' does not exist on $(hostname); define it or fix the pool name in the config" >&2
    exit 1
fi
if virsh_ vol-info --pool "$POOL" "$VOLUME" >/dev/null 2>&1; then
    echo "volume $POOL/$VOLUME already present"
    exit 0
fi

args=(vol-create-as "$POOL" "$VOLUME" "${CAPACITY_GIB}G")
[[ -n "${FORMAT:-}" ]] && args+=(--format "$FORMAT")
if [[ -n "${BACKING_VOLUME:-}" ]]; then
    backing_path=$(virsh_ vol-path --pool "$POOL" "$BACKING_VOLUME")
    args+=(--backing-vol "$backing_path" --backing-vol-format qcow2)
fi
virsh_ "${args[@]}" >/dev/null
echo "volume $POOL/$VOLUME created (${CAPACITY_GIB} GiB)"
