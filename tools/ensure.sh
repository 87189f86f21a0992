#!/usr/bin/env bash
# Builds (once) and caches the binaries of one or more tool groups, then prints
# each group's bin directory on stdout, one per line, in argument order.
#
# Usage: tools/ensure.sh GROUP...
#
# A group is a directory tools/GROUP/ with an executable build.sh OUTDIR that
# builds the group's binaries into OUTDIR using only the go command.
#
# Cache: ${KVMESH_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmesh-tools}/GROUP-KEY
# where KEY is the first 16 hex digits of a sha256 over the group's files
# (git-tracked plus untracked-but-not-ignored files when inside a git work
# tree, else every file in the directory) and `go version`. A directory is
# valid once it contains .complete; it is built in a temporary directory next
# to it and renamed into place, under a per-group flock, so concurrent runs
# build at most once. Progress and timings go to stderr.
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${KVMESH_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmesh-tools}

log() { printf 'ensure: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

if [[ $# -eq 0 ]]; then
	echo "usage: $0 GROUP..." >&2
	exit 2
fi
command -v go >/dev/null || die "go is not on PATH"
command -v flock >/dev/null || die "flock (util-linux) is not on PATH"

go_version=$(go version)

# group_files DIR: NUL-separated list of the group's files, relative to DIR.
group_files() {
	local dir=$1
	if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$dir" ls-files -z --cached --others --exclude-standard -- .
	else
		(cd "$dir" && find . -type f -print0 | sed -z 's|^\./||')
	fi
}

# group_key DIR: hex sha256 of the group's file names, modes and contents plus go version.
group_key() {
	local dir=$1 f
	{
		printf 'go: %s\n' "$go_version"
		while IFS= read -r -d '' f; do
			[[ -f "$dir/$f" ]] || continue # tracked but deleted in the work tree
			if [[ -x "$dir/$f" ]]; then
				printf 'file: %s (x)\n' "$f"
			else
				printf 'file: %s\n' "$f"
			fi
			sha256sum <"$dir/$f"
		done < <(group_files "$dir" | sort -z)
	} | sha256sum | cut -d' ' -f1
}

mkdir -p "$cache_root"

for group in "$@"; do
	[[ $group =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "invalid group name: $group"
	gdir=$tools_dir/$group
	[[ -x $gdir/build.sh ]] || die "no executable $gdir/build.sh"

	start=$SECONDS
	key=$(group_key "$gdir")
	dest=$cache_root/$group-${key:0:16}

	if [[ ! -f $dest/.complete ]]; then
		lock=$cache_root/.$group.lock
		exec 9>"$lock"
		if ! flock -n 9; then
			log "$group: waiting for another build (lock $lock)"
			flock 9
		fi
		if [[ -f $dest/.complete ]]; then
			log "$group: built by a concurrent run"
		else
			log "$group: building into $dest (cold builds take minutes; see tools/README.md)"
			tmp=$(mktemp -d "$cache_root/.$group-${key:0:16}.tmp.XXXXXX")
			chmod 755 "$tmp"
			if ! "$gdir/build.sh" "$tmp/bin" >&2; then
				rm -rf "$tmp"
				die "$group: build failed"
			fi
			printf '%s\n' "$key" >"$tmp/.complete"
			rm -rf "$dest" # leftover without .complete
			mv -T "$tmp" "$dest"
			log "$group: built in $((SECONDS - start))s"
		fi
		flock -u 9
		exec 9>&-
	else
		log "$group: cached $dest ($((SECONDS - start))s)"
	fi
	printf '%s\n' "$dest/bin"
done
