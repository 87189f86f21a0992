#!/usr/bin/env bash
# Define and start the VM with virt-install --import, unless a domain of that name exists.
# Env: LIBVIRT_URI DOMAIN. Arguments: the virt-install options kvmesh rendered for this node.
set -euo pipefail
virsh_() { virsh --quiet --connect "$LIBVIRT_URI" "$@"; }

if virsh_ dominfo "$DOMAIN" >/dev/null 2>&1; then
    virsh_ domstate "$DOMAIN" | grep -q running || virsh_ start "$DOMAIN" >/dev/null
    echo "domain $DOMAIN already defined"
    exit 0
fi
command -v virt-install >/dev/null || { echo "kvmesh: virt-install is missing on $(hostname); install virtinst" >&2; exit 1; }
virt-install --connect "$LIBVIRT_URI" "$@"
echo "domain $DOMAIN created"
