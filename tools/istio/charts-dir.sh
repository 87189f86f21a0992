#!/usr/bin/env bash
# Prints the absolute path of Istio's Helm charts directory
# (<module dir>/manifests/charts of the pinned istio.io/istio, see pins.sh),
# downloading the module into the Go module cache on first use; later runs
# work offline. Needs only the go command.
#
# Charts used by kvmesh, relative to the printed directory:
#   base                          -> chart "base"    (cluster resources, CRDs in crds/)
#   istio-control/istio-discovery -> chart "istiod"  (control plane)
#   gateway                       -> chart "gateway" (ingress/egress gateway)
# Each is checked to have a Chart.yaml whose name is the one above. They are
# self-contained: no chart dependencies or requirements to fetch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=pins.sh
. "$here/pins.sh"

moddir=$(istio_module_dir "$ISTIO_MODULE" "$ISTIO_MODULE_VERSION" "$ISTIO_MODULE_SUM")
charts="$moddir/manifests/charts"

for pair in base:base istio-control/istio-discovery:istiod gateway:gateway; do
  sub=${pair%%:*}
  name=${pair##*:}
  chart="$charts/$sub/Chart.yaml"
  if [[ ! -f $chart ]]; then
    echo "missing $chart" >&2
    exit 1
  fi
  if ! grep -qx "name: $name" "$chart"; then
    echo "$chart: expected 'name: $name'" >&2
    exit 1
  fi
done

printf '%s\n' "$charts"
