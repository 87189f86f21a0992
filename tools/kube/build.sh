#!/usr/bin/env bash
# Build the local Kubernetes control plane used by the end-to-end tests:
#   kube-apiserver, kube-controller-manager, kube-scheduler (and kubectl, for
#   debugging) from k8s.io/kubernetes, all in ONE `go build` so the packages
#   they share compile once.
# etcd is not built: it comes from Debian's `etcd-server` package (3.4.23),
# which this script installs with apt-get when it is missing, and is copied
# into OUTDIR (see README.md).
#
# Usage: tools/kube/build.sh OUTDIR
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
outdir="$(cd "$1" && pwd)"

# Kubernetes release, must match go.mod (k8s.io/kubernetes and every
# k8s.io/* staging replace at v0.${KUBE_MINOR}.${KUBE_PATCH}).
kube_version="v1.29.15"
kube_commit="0d0f172cdf9fd42d6feee3467374b58d3e168df0"
# Tag time of v1.29.15: a fixed build date keeps the build reproducible.
kube_build_date="2025-03-11T17:41:05Z"
kube_major="1"
kube_minor="29"

# The same -X flags as kubernetes' hack/lib/version.sh, for both version
# packages (component-base: `--version` and /version; client-go: user agent).
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${kube_version}"
  ldflags+=" -X ${pkg}.gitCommit=${kube_commit}"
  ldflags+=" -X ${pkg}.gitTreeState=clean"
  ldflags+=" -X ${pkg}.buildDate=${kube_build_date}"
  ldflags+=" -X ${pkg}.gitMajor=${kube_major}"
  ldflags+=" -X ${pkg}.gitMinor=${kube_minor}"
done

# etcd from Debian (only when missing; needs root, as CI and sessions are).
if ! command -v etcd >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "kube/build.sh: installing Debian etcd-server" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2 ||
      { apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2; }
  else
    echo "kube/build.sh: etcd not found; run: apt-get install -y etcd-server" >&2
    exit 1
  fi
fi

cd "$here"
# Static binaries, as upstream builds these four (KUBE_STATIC_LIBRARIES).
# `providerless` (an upstream build variant) leaves out the in-tree cloud
# providers (AWS, Azure, GCE, vSphere) and their SDKs: nearly a third of the
# source, none of it used here.
CGO_ENABLED=0 go build -mod=readonly -trimpath -tags providerless \
  -ldflags "$ldflags" -o "$outdir/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl

# A copy of etcd next to the others, so that OUTDIR is complete by itself
# (still usable from a cache on a machine where etcd-server is not installed).
etcd_src="$(command -v etcd)"
if [ ! "$etcd_src" -ef "$outdir/etcd" ]; then
  rm -f "$outdir/etcd"
  cp "$etcd_src" "$outdir/etcd"
  chmod 0755 "$outdir/etcd"
fi
