# shellcheck shell=bash disable=SC2034
# Pinned Go module versions that carry Istio's Helm charts and CRDs.
# Sourced by charts-dir.sh and crds-file.sh; change the pins here only.
#
# Istio tags (e.g. 1.21.6) are not semver with a leading "v", so istio.io/istio
# can only be fetched by pseudo-version (v0.0.0-<UTC commit time>-<12 hex>).
# The module proxy reachable here refuses tag and branch queries
# (istio.io/istio@1.21.6 and @release-1.21 answer "403 This module version is
# not available") and serves only some exact pseudo-versions.
#
# ISTIO_MODULE_VERSION is NOT the 1.21.6 release commit: that commit's hash
# could not be found, and no release-1.21 commit is known to be served. It is
# master of 2024-02-18 (repo VERSION file says 1.22, i.e. 1.22-dev), a few days
# after the release-1.21 branch was cut, and is the served commit closest to
# 1.21. Its chart templates match the released 1.21.6 charts closely (same
# istiod args and env), but the Chart.yaml version is the source placeholder
# 1.0.0 and its base/crds add 1.22 fields (caCrl, AuthorizationPolicy
# shortName "ap"). Replace this pin with the 1.21.6 release commit's
# pseudo-version once it is known and served.
ISTIO_MODULE=istio.io/istio
ISTIO_MODULE_VERSION=v0.0.0-20240218163812-d80ef7b19049
ISTIO_MODULE_SUM=h1:jR4INLKnkLNgQRNMBjkAt1ctPnuTq+vQ9wlZSOtR1+o=

# istio.io/api has real semver tags; v1.21.6 is the API (and CRD) release that
# Istio 1.21.6 ships. Its kubernetes/customresourcedefinitions.gen.yaml is the
# file the 1.21.6 base chart installs as crds/crd-all.gen.yaml.
ISTIO_API_MODULE=istio.io/api
ISTIO_API_VERSION=v1.21.6
ISTIO_API_SUM=h1:y0/S68t8UMcM5gYQgkAYogxudk6BKgERIl668OUCnPE=

# istio_module_dir MODULE VERSION SUM: download MODULE@VERSION into the module
# cache (a no-op offline once cached), check its go.sum hash, print its dir.
istio_module_dir() {
  local mod=$1 ver=$2 sum=$3 json dir got
  # Outside any module, so no go.mod/go.work above the caller is consulted.
  if ! json=$(cd / && GOWORK=off go mod download -json "$mod@$ver"); then
    echo "go mod download $mod@$ver failed:" >&2
    printf '%s\n' "$json" >&2
    return 1
  fi
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  got=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p')
  if [[ -z $dir || ! -d $dir ]]; then
    echo "no module directory for $mod@$ver in: $json" >&2
    return 1
  fi
  if [[ $got != "$sum" ]]; then
    echo "$mod@$ver: hash $got, expected $sum" >&2
    return 1
  fi
  printf '%s\n' "$dir"
}
