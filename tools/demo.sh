#!/bin/sh
# make demo: a whole pipeline against the bundled API emulator on
# loopback: upload two CSVs, ask for an analysis whose code really runs,
# fetch the chart and the summary it writes, render the session on the
# terminal and as an HTML report.  No key, no network.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=${CA_DEMO_OUT:-$root/out/demo}
# shellcheck source=tools/emu.sh
. "$root/tools/emu.sh"
emu_session ca-demo
emu_launch "$root" "$work/emu" local-emulator-key-not-real
PATH="$root:$PATH"
export PATH

rm -rf "$out"
mkdir -p "$out"
cd "$root/demo"
echo "ca demo: emulator at $ANTHROPIC_BASE_URL; output in $out" >&2
echo "\$ ca-upload sales.csv targets.csv | ca-request -f prompt.md | ca-exec --stream | ca-fetch -d $out | tee $out/session.ndjson | ca-render" >&2
ca-upload sales.csv targets.csv |
	ca-request -f prompt.md |
	ca-exec --stream |
	ca-fetch -d "$out" |
	tee "$out/session.ndjson" |
	ca-render
ca-render -d "$out" --format html <"$out/session.ndjson" >"$out/report.html"
ca-render --format markdown <"$out/session.ndjson" >"$out/report.md"
echo >&2
echo "ca demo: files in $out:" >&2
ls -l "$out" >&2
