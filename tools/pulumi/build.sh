#!/usr/bin/env bash
# Builds the pinned Pulumi CLI and kvmesh's Node.js language host into OUTDIR
# using only the go command:
#   pulumi                          github.com/pulumi/pulumi/pkg/v3/cmd/pulumi (go.mod `tool`)
#   pulumi-language-nodejs          ./cmd/pulumi-language-nodejs (see its doc comment)
#   pulumi-resource-pulumi-nodejs   shim for @pulumi/pulumi dynamic providers
#
# Usage: tools/pulumi/build.sh OUTDIR
set -euo pipefail

# Must match the github.com/pulumi/pulumi/pkg/v3 version in go.mod.
PULUMI_VERSION=v3.260.0

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
outdir=$1
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")"

ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}"
go build -trimpath -buildvcs=false -ldflags "$ldflags" \
	-o "$outdir/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
go build -trimpath -buildvcs=false -ldflags "$ldflags" \
	-o "$outdir/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs

# The upstream CLI distribution ships this shim; the engine launches it for
# resources of @pulumi/pulumi's `dynamic` providers.
cat >"$outdir/pulumi-resource-pulumi-nodejs" <<'SHIM'
#!/bin/sh
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
SHIM
chmod +x "$outdir/pulumi-resource-pulumi-nodejs"
