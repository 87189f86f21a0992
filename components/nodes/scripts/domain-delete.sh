#!/usr/bin/env bash
# Stop and undefine the VM; a domain that is already gone is not an error.
# Its volumes are separate resources and are deleted after it.
# Env: LIBVIRT_URI DOMAIN
set -euo pipefail
virsh_() { virsh --quiet --connect "$LIBVIRT_URI" "$@"; }

if ! virsh_ dominfo "$DOMAIN" >/dev/null 2>&1; then
    echo "domain $DOMAIN already gone"
    exit 0
fi
if virsh_ domstate "$DOMAIN" | grep -q running; then
    virsh_ destroy "$DOMAIN" >/dev/null
fi
# --nvram/--managed-save/--snapshots-metadata cover domains a user may have touched by hand.
virsh_ undefine "$DOMAIN" --nvram --managed-save --snapshots-metadata >/dev/null 2>&1 || virsh_ undefine "$DOMAIN" >/dev/null
echo "domain $DOMAIN deleted"
