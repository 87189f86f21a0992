# shellcheck shell=bash
# Sets up the pinned Pulumi toolchain for the current shell. Source it:
#
#   . tools/pulumi-env.sh
#
# - pulumi CLI: uses a `pulumi` already on PATH if compatible (major 3, minor
#   >= the pinned one), else builds/caches the `pulumi` group with
#   tools/ensure.sh and prepends its bin dir (pulumi, pulumi-language-nodejs,
#   pulumi-resource-pulumi-nodejs). KVMESH_USE_SYSTEM_PULUMI=1 requires the PATH
#   one, =0 always uses the pinned one.
# - Provider plugins: ensures the groups in KVMESH_PULUMI_PROVIDER_GROUPS
#   (default "pulumi-kubernetes command-provider"); each writes bin/pulumi-plugins.txt lines
#   "KIND NAME VERSION". KVMESH_PULUMI_PLUGINS selects how the engine finds them:
#     install (default): `pulumi plugin install KIND NAME VERSION --file BIN`
#       into $PULUMI_HOME/plugins (default ~/.pulumi; offline, once per build),
#       so `pulumi plugin ls` shows them and no "using ... from $PATH" warnings;
#     ambient: prepend the bin dirs to PATH (the engine prefers
#       pulumi-resource-<name> on PATH over installed plugins, whatever their
#       version, and warns on every run; `pulumi plugin ls` does not list them).
# - Exports PULUMI_SKIP_UPDATE_CHECK=true,
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true and unsets
#   PULUMI_IGNORE_AMBIENT_PLUGINS, so nothing is downloaded.
#
# Returns non-zero (without exiting the caller's shell) if something fails.

kvmesh_pulumi_env() {
	local tools_dir pinned_minor=260
	local want_system=${KVMESH_USE_SYSTEM_PULUMI:-auto} mode=${KVMESH_PULUMI_PLUGINS:-install}
	local groups=() dirs=() line v="" minor use_system=0 out i n_cli=0
	local kind name version bin plugdir marker
	tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || return 1

	case $mode in
	install | ambient) ;;
	*)
		echo "pulumi-env: KVMESH_PULUMI_PLUGINS must be install or ambient, not '$mode'" >&2
		return 1
		;;
	esac

	export PULUMI_SKIP_UPDATE_CHECK=true
	export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
	unset PULUMI_IGNORE_AMBIENT_PLUGINS

	if [[ $want_system != 0 ]] && command -v pulumi >/dev/null 2>&1; then
		v=$(pulumi version 2>/dev/null || true)
		if [[ $v =~ ^v?3\.([0-9]+)\. ]]; then
			minor=${BASH_REMATCH[1]}
			if ((minor >= pinned_minor)); then
				use_system=1
			fi
		fi
		if [[ $want_system == 1 && $use_system == 0 ]]; then
			echo "pulumi-env: KVMESH_USE_SYSTEM_PULUMI=1 but $(command -v pulumi) is '$v' (need v3.>=$pinned_minor)" >&2
			return 1
		fi
	elif [[ $want_system == 1 ]]; then
		echo "pulumi-env: KVMESH_USE_SYSTEM_PULUMI=1 but no pulumi on PATH" >&2
		return 1
	fi

	if [[ $use_system == 0 ]]; then
		groups+=(pulumi)
		n_cli=1
	fi
	# shellcheck disable=SC2206 # word-splitting a space-separated list is intended
	groups+=(${KVMESH_PULUMI_PROVIDER_GROUPS:-pulumi-kubernetes command-provider})

	out=$("$tools_dir/ensure.sh" "${groups[@]}") || return 1
	while IFS= read -r line; do
		[[ -n $line ]] && dirs+=("$line")
	done <<<"$out"

	# The CLI group goes on PATH in every mode.
	for ((i = 0; i < n_cli; i++)); do
		PATH=${dirs[i]}:$PATH
	done
	for ((i = n_cli; i < ${#dirs[@]}; i++)); do
		if [[ $mode == ambient ]]; then
			PATH=${dirs[i]}:$PATH
			continue
		fi
		[[ -f ${dirs[i]}/pulumi-plugins.txt ]] || continue
		while read -r kind name version; do
			[[ -n $kind ]] || continue
			bin=${dirs[i]}/pulumi-$kind-$name
			plugdir=${PULUMI_HOME:-$HOME/.pulumi}/plugins/$kind-$name-v$version
			marker=$plugdir/.kvmesh-source
			if [[ -f $marker && $(<"$marker") == "$bin" ]]; then
				continue # already installed from this exact build
			fi
			echo "pulumi-env: installing $kind plugin $name $version from $bin" >&2
			pulumi plugin install "$kind" "$name" "$version" --file "$bin" --reinstall >&2 || return 1
			printf '%s\n' "$bin" >"$marker" || return 1
		done <"${dirs[i]}/pulumi-plugins.txt"
	done
	export PATH
	hash -r
	if [[ $use_system == 1 ]]; then
		echo "pulumi-env: using pulumi found on PATH: $(command -v pulumi) ($v)" >&2
	fi
}

kvmesh_pulumi_env
