#!/usr/bin/env bash
# Prepare the NVMe data volume: format it only when it is blank, then mount it persistently
# by filesystem UUID (device names like /dev/vdb or /dev/nvme1n1 can change between boots).
# Used by cloud-init on libvirt VMs and over SSH on existing VPS nodes.
# Env: DEVICE MOUNT_POINT LABEL
set -euo pipefail
fail() { echo "kvmesh: $*" >&2; exit 1; }

for _ in $(seq 1 60); do
    [[ -e "$DEVICE" ]] && break
    sleep 1
done
[[ -e "$DEVICE" ]] || fail "data device $DEVICE does not exist on $(hostname)"
dev=$(readlink -f "$DEVICE")
[[ -b "$dev" ]] || fail "$DEVICE is not a block device"

if [[ "$(lsblk -nro TYPE "$dev" | tail -n +2 | grep -c part || true)" -gt 0 ]]; then
    fail "$DEVICE has partitions; kvmesh formats only blank devices. Point dataDevice at an empty disk"
fi
if lsblk -nro MOUNTPOINT "$dev" | grep -qx '/'; then
    fail "$DEVICE holds the root filesystem; choose the separate data disk"
fi

fstype=$(blkid -p -o value -s TYPE "$dev" 2>/dev/null || true)
if [[ -z "$fstype" ]]; then
    if [[ -n "$(wipefs -n "$dev" 2>/dev/null | tail -n +2)" ]]; then
        fail "$DEVICE carries signatures blkid does not name; wipe it yourself if it is really unused"
    fi
    echo "formatting blank device $DEVICE as ext4 ($LABEL)"
    mkfs.ext4 -q -L "$LABEL" "$dev"
    fstype=ext4
elif [[ "$fstype" != "ext4" && "$fstype" != "xfs" ]]; then
    fail "$DEVICE already holds a $fstype signature; kvmesh formats only blank devices"
fi
udevadm settle || true
uuid=$(blkid -p -o value -s UUID "$dev")
[[ -n "$uuid" ]] || fail "could not read the filesystem UUID of $DEVICE"

if mountpoint -q "$MOUNT_POINT"; then
    current=$(findmnt -no UUID "$MOUNT_POINT" || true)
    [[ "$current" == "$uuid" ]] || fail "$MOUNT_POINT is already a mount of another filesystem ($current)"
elif [[ -d "$MOUNT_POINT" && -n "$(ls -A "$MOUNT_POINT")" ]]; then
    fail "$MOUNT_POINT is not empty; mounting the data volume would hide its contents. Move them aside first"
fi

if grep -qE "^[^#]*[[:space:]]${MOUNT_POINT}[[:space:]]" /etc/fstab && ! grep -q "^UUID=${uuid}[[:space:]]" /etc/fstab; then
    fail "/etc/fstab already mounts something else on $MOUNT_POINT"
fi
if ! grep -q "^UUID=${uuid}[[:space:]]" /etc/fstab; then
    echo "UUID=$uuid $MOUNT_POINT $fstype defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2" >>/etc/fstab
    systemctl daemon-reload || true
fi
mkdir -p "$MOUNT_POINT"
mountpoint -q "$MOUNT_POINT" || mount "$MOUNT_POINT"
echo "$DEVICE ($fstype, UUID=$uuid) mounted on $MOUNT_POINT"
