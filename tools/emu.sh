# The one launcher of the API emulator (emu/ca-emu.py), sourced by
# t/test_helper.bash (and t/emu.bats), tools/demo.sh, bench/batch.sh and,
# through sh -c, bench/table.py.
# shellcheck shell=sh

# emu_launch ROOT DIR KEY [emulator options]: start ROOT's emulator on a
# free port of 127.0.0.1 with its files in DIR (port, pid, log.ndjson,
# state/, stdout, stderr), wait until it has written its port, then
# export EMU_URL, ANTHROPIC_BASE_URL (both its URL) and
# ANTHROPIC_API_KEY=KEY, and set emu_pid.  If the emulator exits or has
# not written its port within 10 s, show its stderr and fail.
emu_launch() {
	_root=$1 _dir=$2 _key=$3
	shift 3
	mkdir -p "$_dir"
	rm -f "$_dir/port"
	# No stdin, and fd 3 closed: bats waits for whoever holds its fd 3.
	python3 "$_root/emu/ca-emu.py" -D --port 0 --port-file "$_dir/port" \
		--log "$_dir/log.ndjson" --state "$_dir/state" "$@" \
		</dev/null >"$_dir/stdout" 2>"$_dir/stderr" 3>&- &
	emu_pid=$!
	echo "$emu_pid" >"$_dir/pid"
	_i=0
	while [ ! -s "$_dir/port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$emu_pid" 2>/dev/null; then
			cat "$_dir/stderr" >&2
			return 1
		fi
		sleep 0.1
	done
	EMU_URL="http://127.0.0.1:$(cat "$_dir/port")"
	ANTHROPIC_BASE_URL=$EMU_URL
	ANTHROPIC_API_KEY=$_key
	export EMU_URL ANTHROPIC_BASE_URL ANTHROPIC_API_KEY
}

# For scripts (the demo, the benchmarks).  emu_session NAME: make $work,
# a scratch directory, and at exit or on a signal stop the emulator
# started there and remove $work.
emu_session() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	emu_pid=""
	trap emu_cleanup EXIT
	trap 'emu_cleanup; exit 130' INT
	trap 'emu_cleanup; exit 143' TERM
}

emu_cleanup() {
	[ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null
	emu_pid=""
	rm -rf "$work"
}
