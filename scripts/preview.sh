#!/usr/bin/env bash
# The main job: `pulumi preview --diff` of the embedded dev stack (Pulumi.dev.yaml), from a
# fresh clone, offline if need be:
#   - installs npm dependencies when the lock file changed;
#   - puts the pinned Pulumi CLI and plugins on PATH (a compatible `pulumi` already on PATH is
#     used as is; otherwise tools/ builds them from Go modules once and caches them);
#   - keeps state in a local file backend under .kvmesh/ (git-ignored);
#   - creates the dev stack when missing, with a throwaway SSH key for it alone;
#   - without network, points the Istio chart source at the charts in the Go module cache.
# Extra arguments go to `pulumi preview` (e.g. --json). Dev-only passphrase: kvmesh-dev-only.
# KVMESH_WORKDIR moves .kvmesh/ elsewhere (tests); KVMESH_OFFLINE=1/0 skips the network probe.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
work=${KVMESH_WORKDIR:-$root/.kvmesh}
mkdir -p "$work/dev" "$work/backend"
log() { printf 'preview: %s\n' "$*" >&2; }

# 1. npm dependencies.
if [[ ! -f node_modules/.kvmesh-lock ]] || ! cmp -s package-lock.json node_modules/.kvmesh-lock; then
    log "installing npm dependencies"
    npm ci --no-audit --no-fund >&2
    cp package-lock.json node_modules/.kvmesh-lock
fi

# 2. The Pulumi toolchain (offline switches included).
# shellcheck source=SCRIPTDIR/../tools/pulumi-env.sh
source tools/pulumi-env.sh

# 3. Local state and the dev-only passphrase (it protects nothing but this throwaway stack).
export PULUMI_BACKEND_URL=${KVMESH_BACKEND_URL:-file://$work/backend}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-kvmesh-dev-only}

# 4. A throwaway SSH key for the dev stack only.
if [[ ! -f $work/dev/id_ed25519 ]]; then
    log "generating a throwaway SSH key for the dev stack in $work/dev/"
    ssh-keygen -q -t ed25519 -N "" -C "kvmesh dev stack (throwaway)" -f "$work/dev/id_ed25519"
fi

# 5. The stack.
if ! pulumi stack select dev --non-interactive 2>/dev/null; then
    log "creating the dev stack"
    pulumi stack init dev --non-interactive >&2
fi

# 6. The effective config: the committed Pulumi.dev.yaml plus local overrides, kept in the work
#    directory so the repository stays untouched.
config_file=$work/Pulumi.dev.effective.yaml
cp Pulumi.dev.yaml "$config_file"
set_config() { pulumi config set --config-file "$config_file" --path "$1" "$2" --non-interactive; }
if [[ $work != "$root/.kvmesh" ]]; then
    set_config kvmesh:ssh.privateKeyFile "$work/dev/id_ed25519"
    set_config kvmesh:ssh.publicKeyFile "$work/dev/id_ed25519.pub"
fi
# Istio charts: the official repository when reachable, else the Go module cache.
offline=${KVMESH_OFFLINE:-auto}
if [[ $offline == auto ]]; then
    if curl -fsS --max-time 5 -o /dev/null https://istio-release.storage.googleapis.com/charts/index.yaml 2>/dev/null; then
        offline=0
    else
        offline=1
    fi
fi
if [[ $offline == 1 ]]; then
    charts=$(bash tools/istio/charts-dir.sh)
    log "offline: Istio charts from $charts"
    set_config kvmesh:mesh.chartSource.path "$charts"
fi

# 7. The preview.
exec pulumi preview --stack dev --config-file "$config_file" --diff --non-interactive "$@"
