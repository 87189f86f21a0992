#!/usr/bin/env bash
# Build the kwok controller (sigs.k8s.io/kwok/cmd/kwok, version in go.mod),
# which fakes Nodes and Pods for the local control plane of tools/kube.
#
# Usage: tools/kube-kwok/build.sh OUTDIR
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
outdir="$(cd "$1" && pwd)"

cd "$here"
CGO_ENABLED=0 go build -mod=readonly -trimpath \
  -ldflags "-s -w" \
  -o "$outdir/" sigs.k8s.io/kwok/cmd/kwok
