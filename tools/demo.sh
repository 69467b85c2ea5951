#!/bin/sh
# make demo: a whole pipeline against the bundled API emulator on
# loopback: upload two CSVs, ask for an analysis whose code really runs,
# fetch the chart and the summary it writes, render the session on the
# terminal and as an HTML report.  No key, no network.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=${CA_DEMO_OUT:-$root/out/demo}
work=$(mktemp -d "${TMPDIR:-/tmp}/ca-demo.XXXXXX")
emu_pid=""
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

python3 "$root/emu/ca-emu.py" --port 0 --port-file "$work/port" \
	--log "$work/emu.log" --state "$work/state" 2>"$work/emu.err" &
emu_pid=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { cat "$work/emu.err" >&2; exit 1; }
	sleep 0.1
done

ANTHROPIC_BASE_URL="http://127.0.0.1:$(cat "$work/port")"
ANTHROPIC_API_KEY=demo-key-not-real
PATH="$root:$PATH"
export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY PATH

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
ca-render --format html <"$out/session.ndjson" >"$out/report.html"
ca-render --format markdown <"$out/session.ndjson" >"$out/report.md"
echo >&2
echo "ca demo: files in $out:" >&2
ls -l "$out" >&2
