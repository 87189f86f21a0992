#!/usr/bin/env bash
# On destroy of an existing node: unmount the data volume and drop its fstab line.
# The filesystem itself is kept; kvmesh never wipes a disk it did not create.
# Env: MOUNT_POINT
set -euo pipefail
if mountpoint -q "$MOUNT_POINT"; then
    umount "$MOUNT_POINT"
fi
if grep -qE "^UUID=[^[:space:]]+[[:space:]]${MOUNT_POINT}[[:space:]]" /etc/fstab; then
    sed -i -E "\#^UUID=[^[:space:]]+[[:space:]]${MOUNT_POINT}[[:space:]]#d" /etc/fstab
    systemctl daemon-reload || true
fi
echo "released $MOUNT_POINT"
