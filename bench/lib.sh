# Shared by the benchmarks: run the emulator on loopback for one script.
# shellcheck shell=sh

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ca-bench.XXXXXX")
emu_pid=""
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

emu_start() {
	python3 "$root/emu/ca-emu.py" --port 0 --port-file "$work/port" \
		--log /dev/null --state "$work/state" "$@" 2>"$work/emu.err" &
	emu_pid=$!
	i=0
	while [ ! -s "$work/port" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { cat "$work/emu.err" >&2; exit 1; }
		sleep 0.1
	done
	ANTHROPIC_BASE_URL="http://127.0.0.1:$(cat "$work/port")"
	ANTHROPIC_API_KEY=bench-key-not-real
	PATH="$root:$PATH"
	export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY PATH
}

# Wall-clock seconds of a command, to the millisecond.
seconds() {
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }'
}
