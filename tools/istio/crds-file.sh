#!/usr/bin/env bash
# Prints the absolute path of the Istio 1.21.6 CRD definitions, with their
# openAPIV3Schema (istio.io/api v1.21.6, kubernetes/customresourcedefinitions.gen.yaml,
# see pins.sh), downloading the module into the Go module cache on first use.
# It holds the 14 Istio CRDs, e.g. networking.istio.io DestinationRule,
# VirtualService (v1alpha3, v1beta1) and security.istio.io PeerAuthentication
# (v1beta1), each with a structural schema usable to reject unknown fields.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=pins.sh
. "$here/pins.sh"

moddir=$(istio_module_dir "$ISTIO_API_MODULE" "$ISTIO_API_VERSION" "$ISTIO_API_SUM")
file="$moddir/kubernetes/customresourcedefinitions.gen.yaml"
if [[ ! -f $file ]]; then
  echo "missing $file" >&2
  exit 1
fi
printf '%s\n' "$file"
