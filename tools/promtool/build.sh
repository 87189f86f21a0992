#!/usr/bin/env bash
# Builds promtool into OUTDIR (contract of tools/ensure.sh: `tools/<group>/build.sh OUTDIR`),
# from the Prometheus version this directory's go.mod pins, with the version stamped.
set -euo pipefail
if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
cd "$here"
export GOWORK=off CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"

mod=github.com/prometheus/prometheus
version=$(go list -m -f '{{.Version}}' "$mod")
# Prometheus tags its Go module v0.X.Y for release 2.X.Y.
release="2.${version#v0.}"
go build -trimpath \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=${release} -X github.com/prometheus/common/version.Branch=kvmesh" \
  -o "$outdir/promtool" "$mod/cmd/promtool"
"$outdir/promtool" --version >/dev/null
