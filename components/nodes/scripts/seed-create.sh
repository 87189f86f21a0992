#!/usr/bin/env bash
# Build the cloud-init NoCloud seed (user-data, meta-data, network-config) as an ISO volume.
# Env: LIBVIRT_URI POOL VOLUME USER_DATA META_DATA NETWORK_CONFIG
set -euo pipefail
virsh_() { virsh --quiet --connect "$LIBVIRT_URI" "$@"; }

tmp=$(mktemp -d -p /var/tmp kvmesh-seed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$USER_DATA" >"$tmp/user-data"
printf '%s\n' "$META_DATA" >"$tmp/meta-data"
printf '%s\n' "$NETWORK_CONFIG" >"$tmp/network-config"

# The volume label must be "cidata" for cloud-init's NoCloud datasource.
if command -v cloud-localds >/dev/null; then
    cloud-localds --network-config="$tmp/network-config" "$tmp/seed.iso" "$tmp/user-data" "$tmp/meta-data"
elif command -v genisoimage >/dev/null || command -v mkisofs >/dev/null; then
    mk=$(command -v genisoimage || command -v mkisofs)
    "$mk" -quiet -output "$tmp/seed.iso" -volid cidata -joliet -rock \
        "$tmp/user-data" "$tmp/meta-data" "$tmp/network-config"
elif command -v xorriso >/dev/null; then
    xorriso -as mkisofs -quiet -output "$tmp/seed.iso" -volid cidata -joliet -rock \
        "$tmp/user-data" "$tmp/meta-data" "$tmp/network-config"
else
    echo "kvmesh: no ISO tool on $(hostname); install cloud-image-utils (or genisoimage)" >&2
    exit 1
fi

# Replace, don't reuse: the seed's content is what this resource stands for.
if virsh_ vol-info --pool "$POOL" "$VOLUME" >/dev/null 2>&1; then
    virsh_ vol-delete --pool "$POOL" "$VOLUME" >/dev/null
fi
virsh_ vol-create-as "$POOL" "$VOLUME" "$(stat -c %s "$tmp/seed.iso")" --format raw >/dev/null
virsh_ vol-upload --pool "$POOL" "$VOLUME" "$tmp/seed.iso"
echo "cloud-init seed $POOL/$VOLUME written"
