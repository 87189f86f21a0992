#!/usr/bin/env bash
# Put the pinned Ubuntu cloud image into a libvirt storage pool once per hypervisor.
# The download is checked against the pinned SHA-256 before libvirt ever sees it.
# Env: LIBVIRT_URI POOL VOLUME URL SHA256
set -euo pipefail
virsh_() { virsh --quiet --connect "$LIBVIRT_URI" "$@"; }

for tool in virsh curl sha256sum; do
    command -v "$tool" >/dev/null || { echo "kvmesh: '$tool' is missing on $(hostname); install libvirt-clients and curl" >&2; exit 1; }
done
if ! virsh_ pool-info "$POOL" >/dev/null 2>&1; then
    echo "kvmesh: storage pool '$POOL' does not exist on $(hostname); define it (virsh pool-define-as) or set imagePool" >&2
    exit 1
fi
virsh_ pool-refresh "$POOL" >/dev/null

if virsh_ vol-info --pool "$POOL" "$VOLUME" >/dev/null 2>&1; then
    echo "base image $POOL/$VOLUME already present"
    exit 0
fi

tmp=$(mktemp -d -p /var/tmp kvmesh-image.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "downloading $URL"
curl -fsSL --retry 5 --retry-delay 5 -o "$tmp/image" "$URL"
if ! echo "$SHA256  $tmp/image" | sha256sum -c --quiet -; then
    echo "kvmesh: $URL does not match the pinned SHA-256 $SHA256; refusing to use it" >&2
    exit 1
fi
virsh_ vol-create-as "$POOL" "$VOLUME" "$(stat -c %s "$tmp/image")" --format qcow2 >/dev/null
virsh_ vol-upload --pool "$POOL" "$VOLUME" "$tmp/image"
virsh_ pool-refresh "$POOL" >/dev/null
echo "base image $POOL/$VOLUME created"
