#!/usr/bin/env bash
# Builds pulumi-resource-kubernetes into OUTDIR using only the go command.
#
# The provider module is pinned in go.mod to a pseudo-version of
# github.com/pulumi/pulumi-kubernetes/provider/v4 (the only one the module
# proxy serves). Its commit (f47bc2d6f199, 2026-01-15) is on master between
# the v4.24.1 and v4.25.0 tags; the Go SDK (and therefore the schema) is
# identical between 4.24.1 and 4.25.0, so it is stamped 4.25.0 to match the
# npm @pulumi/kubernetes 4.25.0 SDK.
#
# Usage: tools/pulumi-kubernetes/build.sh OUTDIR
set -euo pipefail

PROVIDER_VERSION=4.25.0
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
outdir=$1
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Work in a temporary copy so the generated embed files never touch the
# source tree (whose contents key the ensure.sh cache).
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmesh-k8s-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$here/." "$work/"
cd "$work"

# Locate the provider module in the module cache (downloads it if needed).
go mod download "$PROVIDER_MODULE"
moddir=$(go list -m -f '{{.Dir}}' "$PROVIDER_MODULE")
go run -buildvcs=false ./internal/embedgen "$PROVIDER_VERSION" \
	"$moddir/cmd/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes

go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X ${PROVIDER_MODULE}/pkg/version.Version=${PROVIDER_VERSION}" \
	-o "$outdir/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes

# Read by tools/pulumi-env.sh to register the binary with `pulumi plugin install --file`.
printf 'resource kubernetes %s\n' "$PROVIDER_VERSION" >"$outdir/pulumi-plugins.txt"
