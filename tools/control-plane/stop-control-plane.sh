#!/usr/bin/env bash
# Stop everything start-control-plane.sh started for WORKDIR (pids in
# WORKDIR/pids), newest first: kwok, scheduler, controller-manager, apiserver,
# etcd. Safe to call after a failed or partial start, twice, or when nothing
# runs. A pid is only signalled while its command line still names WORKDIR, so
# a recycled pid is never hit. Leaves WORKDIR's files (logs, etcd data) in
# place; pass --clean as second argument to remove WORKDIR as well.
#
# Usage: stop-control-plane.sh WORKDIR [--clean]
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
  echo "usage: $0 WORKDIR [--clean]" >&2
  exit 2
fi
if [ ! -d "$1" ]; then
  exit 0
fi
workdir="$(cd "$1" && pwd)"
pids="$workdir/pids"

# ours PID: the process exists and its command line names a path in WORKDIR.
ours() {
  local cmdline
  [ -r "/proc/$1/cmdline" ] || return 1
  cmdline="$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null)" || return 1
  case "$cmdline" in *"$workdir/"*) return 0 ;; *) return 1 ;; esac
}

order="kwok kube-scheduler kube-controller-manager kube-apiserver etcd"
targets=()
for name in $order; do
  f="$pids/$name.pid"
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  if [ -n "$pid" ] && ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    targets+=("$pid")
  fi
  # Give the API clients a moment to go before the API server and etcd.
  if [ "$name" = "kube-controller-manager" ] && [ "${#targets[@]}" -gt 0 ]; then
    sleep 0.2
  fi
done

# Wait up to 10 s for a clean exit, then SIGKILL what is left.
for _ in $(seq 1 50); do
  left=0
  for pid in "${targets[@]}"; do
    if ours "$pid"; then left=1; fi
  done
  [ "$left" -eq 0 ] && break
  sleep 0.2
done
for pid in "${targets[@]}"; do
  if ours "$pid"; then
    echo "kube: pid $pid did not stop on SIGTERM; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
rm -f "$pids"/*.pid

if [ "${2:-}" = "--clean" ]; then
  rm -rf "$workdir"
fi
