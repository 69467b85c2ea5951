# Shared by the benchmarks: run the emulator on loopback for one script.
# shellcheck shell=sh

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/emu.sh
. "$root/tools/emu.sh"
emu_session ca-bench
emu_start() {
	emu_up "$root" "$@"
}

# Wall-clock seconds of a command, to the millisecond.
seconds() {
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }'
}
