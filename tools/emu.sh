# Sourced by tools/demo.sh and bench/lib.sh: a scratch directory and the
# API emulator on loopback, both gone when the script ends.
# shellcheck shell=sh

# emu_session NAME: make $work, and clean up at exit or on a signal.
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

# emu_up ROOT [emulator options]: start it in $work, set emu_pid, and
# export ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and PATH (ROOT first).
emu_up() {
	_root=$1
	shift
	python3 "$_root/emu/ca-emu.py" --port 0 --port-file "$work/port" \
		--log "$work/emu.log" --state "$work/state" "$@" \
		2>"$work/emu.err" &
	emu_pid=$!
	_i=0
	while [ ! -s "$work/port" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || { cat "$work/emu.err" >&2; return 1; }
		sleep 0.1
	done
	ANTHROPIC_BASE_URL="http://127.0.0.1:$(cat "$work/port")"
	ANTHROPIC_API_KEY=local-emulator-key-not-real
	PATH="$_root:$PATH"
	export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY PATH
}
