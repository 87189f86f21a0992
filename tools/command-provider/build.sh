#!/usr/bin/env bash
# Builds kvmesh's `command` provider plugin (tools/command-provider/*.ts) into OUTDIR:
#   pulumi-resource-command   one self-contained executable JavaScript file (esbuild bundle of
#                             the sources, ssh2, @grpc/grpc-js, google-protobuf and
#                             @pulumi/pulumi's generated protobuf code) with a `node` shebang
#   pulumi-plugins.txt        "resource command 1.2.1" for tools/pulumi-env.sh
# A single file because `pulumi plugin install --file` copies just that file.
#
# Needs node and the repository's node_modules (npm ci): typescript, esbuild and the packages
# pinned in runtime-deps.txt.
#
# Usage: tools/command-provider/build.sh OUTDIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
outdir=$(cd "$1" && pwd)

die() {
	echo "command-provider: $*" >&2
	exit 1
}

command -v node >/dev/null || die "node is not on PATH"
[[ -x $root/node_modules/.bin/tsc && -x $root/node_modules/.bin/esbuild ]] ||
	die "typescript/esbuild missing in $root/node_modules (run npm ci)"

# The bundled packages must be the pinned ones, and there must be one @grpc/grpc-js and one
# google-protobuf (ours and the one @pulumi/pulumi's protobuf code loads).
(cd "$root" && node - "$here/runtime-deps.txt") <<'JS' || die "node_modules does not match runtime-deps.txt"
const fs = require("fs");
const path = require("path");
let ok = true;
for (const line of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
    const [name, want] = line.trim().split(/\s+/);
    if (!name || name.startsWith("#")) continue;
    let have = "(not installed)";
    try {
        have = require(`${name}/package.json`).version;
    } catch {}
    if (have !== want) {
        console.error(`command-provider: ${name} is ${have}, runtime-deps.txt pins ${want}`);
        ok = false;
    }
}
const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
for (const dep of ["@grpc/grpc-js", "google-protobuf"]) {
    const ours = require.resolve(dep);
    const sdks = require.resolve(dep, { paths: [sdk] });
    if (ours !== sdks) {
        console.error(`command-provider: two copies of ${dep}: ${ours} and ${sdks}`);
        ok = false;
    }
}
process.exit(ok ? 0 : 1);
JS

"$root/node_modules/.bin/tsc" -p "$here/tsconfig.json"

tmp=$outdir/.pulumi-resource-command.tmp
# ssh2's optional native crypto (built only if npm ran its install script) stays out of the bundle;
# ssh2 falls back to pure JavaScript when it is missing.
"$root/node_modules/.bin/esbuild" "$here/main.ts" \
	--bundle --platform=node --target=node20 --format=cjs \
	--external:cpu-features --external:*.node --legal-comments=none --log-level=warning \
	--banner:js='#!/usr/bin/env node' \
	--outfile="$tmp"
chmod 755 "$tmp"
mv -f "$tmp" "$outdir/pulumi-resource-command"
printf 'resource command 1.2.1\n' >"$outdir/pulumi-plugins.txt"
