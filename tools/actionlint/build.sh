#!/usr/bin/env bash
# Builds actionlint into OUTDIR (contract used by tools/ensure.sh GROUP:
# `tools/<group>/build.sh OUTDIR`). Uses only the go command and the Go module
# proxy; the actionlint version is the one this directory's go.mod requires.
#
#   usage: tools/actionlint/build.sh OUTDIR
#   result: OUTDIR/actionlint
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

mod=github.com/rhysd/actionlint
version=$(go list -m -f '{{.Version}}' "$mod")
# actionlint's own release builds set the version without the leading "v".
version=${version#v}

go build -trimpath \
  -ldflags "-s -w -X ${mod}.version=${version}" \
  -o "$outdir/actionlint" "$mod/cmd/actionlint"

"$outdir/actionlint" -version >/dev/null
