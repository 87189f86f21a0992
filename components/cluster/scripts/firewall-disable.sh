#!/usr/bin/env bash
# On destroy of an existing node: remove kvmesh's rules and turn ufw off, as before kvmesh.
set -euo pipefail
if command -v ufw >/dev/null; then
    ufw --force reset >/dev/null
    echo "firewall reset and disabled"
fi
