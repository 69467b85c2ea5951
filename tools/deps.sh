#!/bin/sh
# Install, from Debian's packages, what this machine lacks for one use:
#   build  compile the tools and run the demo (the emulator is python3)
#   test   build, plus what the tests run (bats, jq, curl, file, time,
#          ss, strace, zsh, mandoc, sqlite3, and chromium for the HTML report's
#          browser tests unless CA_NO_BROWSER is set)
#   all    test, plus the tools of make lint, valgrind and bench
#   deb    build, plus what make deb runs (dpkg-buildpackage, debhelper,
#          lintian)
# Quiet when nothing is missing.
set -eu

what=${1:-all}
case $what in
build | test | all | deb) ;;
*) echo "usage: tools/deps.sh [build|test|all|deb]" >&2; exit 2 ;;
esac

need=""
# A program on PATH: a file, not a shell keyword or builtin of the same
# name (bash's "time" is one; the tests run /usr/bin/time).
have_cmd() {
	(
		set -f
		IFS=:
		for d in $PATH; do
			[ -x "${d:-.}/$1" ] && exit 0
		done
		exit 1
	)
}
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have_pkg() {
	dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q ' installed$'
}
# A compiler is not enough: gcc without recommends has no C library
# headers (libc6-dev).
have_cc() {
	echo '#include <sys/stat.h>' | cc -E -x c - >/dev/null 2>&1
}

have_cc || need="$need gcc libc6-dev"
have_cmd make || need="$need make"
have_cmd pkg-config || need="$need pkg-config"
have_pc libcurl || need="$need libcurl4-openssl-dev"
have_pc libcjson || need="$need libcjson-dev"
have_pc libcrypto || need="$need libssl-dev"
have_pc zlib || need="$need zlib1g-dev"	# ca-skills reads zips
have_cmd python3 || need="$need python3"
have_cmd rlwrap || need="$need rlwrap"	# ca-chat's line editing and history

if [ "$what" = deb ]; then
	# dpkg-checkbuilddeps wants the build-essential package itself.
	have_pkg build-essential || need="$need build-essential"
	have_cmd dh || need="$need debhelper"
	have_cmd debuild || need="$need devscripts"
	have_cmd lintian || need="$need lintian"
elif [ "$what" != build ]; then
	have_cmd bats || need="$need bats"
	have_cmd jq || need="$need jq"
	have_cmd curl || need="$need curl"
	have_cmd file || need="$need file"
	have_cmd time || need="$need time"	# peak memory (t/limits.bats)
	# The emulator's listen backlog and its writes (t/emu.bats).
	have_cmd ss || need="$need iproute2"
	have_cmd strace || need="$need strace"
	have_cmd zsh || need="$need zsh"	# the zsh completion's syntax check
	have_cmd mandoc || need="$need mandoc"
	have_cmd sqlite3 || need="$need sqlite3"	# the client tool example
	[ -n "${CA_NO_BROWSER:-}" ] || have_cmd chromium ||
		need="$need chromium"
fi

if [ "$what" = all ]; then
	have_cmd shellcheck || need="$need shellcheck"
	have_cmd valgrind || need="$need valgrind"
fi

[ -n "$need" ] || exit 0
echo "deps: installing:$need" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
