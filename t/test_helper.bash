# Shared by every t/*.bats file.  Isolates the environment, puts the
# freshly built tools first on PATH and runs the local API emulator.

CA_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
export CA_ROOT
PATH="$CA_ROOT:$PATH"
export PATH
# shellcheck source=tools/emu.sh
. "$CA_ROOT/tools/emu.sh"

# Nothing from the caller's environment may leak into a test.
unset ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN ANTHROPIC_BASE_URL \
	XDG_CACHE_HOME NO_COLOR CA_API_VERSION
export LC_ALL=C.UTF-8

# bats loads this file again for every test: bring back what emu_start
# set up for the whole file.
if [ -n "${BATS_FILE_TMPDIR:-}" ] && [ -f "$BATS_FILE_TMPDIR/emu.env" ]; then
	# shellcheck disable=SC1091
	. "$BATS_FILE_TMPDIR/emu.env"
fi

# A fake key that looks like no real one; tests check it never leaks.
CA_TEST_KEY=test-key-not-real
export CA_TEST_KEY

# The headers of a raw API call: the tests' key and the tools' default
# API version (CA_API_VERSION_DEFAULT in lib/ca.h).
CA_TEST_API_VERSION=2026-10-21
CA_API_HEADERS=(-H "x-api-key: $CA_TEST_KEY" -H "anthropic-version: $CA_TEST_API_VERSION")

# A raw API call, as a user would make it with curl, behind the tools'
# back: api [curl args...] URL.
api() {
	curl -sf "${CA_API_HEADERS[@]}" "$@"
}

# The tools, found as the Makefile finds them: cmd/NAME.c or cmd/NAME/.
CA_TOOLS=()
for _t in "$CA_ROOT"/cmd/*.c "$CA_ROOT"/cmd/*/; do
	[ -e "$_t" ] || continue
	_t=${_t%/}
	_t=${_t##*/}
	CA_TOOLS+=("${_t%.c}")
done

# With CA_VALGRIND set (make valgrind), the tools run under valgrind and
# any error or leak fails the test through exit status 99.
if [ -n "${CA_VALGRIND:-}" ]; then
	for _t in "${CA_TOOLS[@]}"; do
		eval "$_t() { valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 \"\$CA_ROOT/$_t\" \"\$@\"; }"
		export -f "${_t?}"
	done
fi

# Each test: its own HOME and cache, its own directory, and a fresh
# emulator log when the file runs one.  A file with more to set up
# defines setup() and calls this first.
ca_test_setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	export XDG_CACHE_HOME="$HOME/.cache"
	cd "$BATS_TEST_TMPDIR" || return 1
	if [ -n "${EMU_URL:-}" ]; then
		emu_reset
	fi
}

setup() {
	ca_test_setup
}

# Start one emulator for the whole file (call from setup_file), with
# the launcher the demo and the benchmarks use.
emu_start() {
	EMU_DIR="$BATS_FILE_TMPDIR/emu"
	emu_launch "$CA_ROOT" "$EMU_DIR" "$CA_TEST_KEY" "$@" || return 1
	cat >"$BATS_FILE_TMPDIR/emu.env" <<-EOT
	export EMU_DIR="$EMU_DIR" EMU_URL="$EMU_URL"
	export ANTHROPIC_BASE_URL="$EMU_URL" ANTHROPIC_API_KEY="$CA_TEST_KEY"
	EOT
}

emu_stop() {
	[ -f "$EMU_DIR/pid" ] && kill "$(cat "$EMU_DIR/pid")" 2>/dev/null
	return 0
}

# Forget faults and config, and empty the request log.
emu_reset() {
	curl -sf -X POST "$EMU_URL/_emu/reset" >/dev/null
}

# Queue fault rules: emu_fault '[{"path":"/v1/messages","status":529}]'
emu_fault() {
	curl -sf -X POST -H 'content-type: application/json' \
		--data-binary "$1" "$EMU_URL/_emu/faults" >/dev/null
}

emu_config() {
	curl -sf -X POST -H 'content-type: application/json' \
		--data-binary "$1" "$EMU_URL/_emu/config" >/dev/null
}

# Make a generated (downloadable) file: emu_file NAME CONTENT -> its id.
emu_file() {
	jq -cn --arg n "$1" --arg c "$2" \
		'{filename: $n, content_b64: ($c | @base64)}' |
		curl -sf -X POST -H 'content-type: application/json' \
			--data-binary @- "$EMU_URL/_emu/files" | jq -r .id
}

# The requests the emulator received, one JSON object per line,
# optionally only those for one path.
emu_log() {
	if [ $# -gt 0 ]; then
		jq -c --arg p "$1" 'select(.path == $p)' "$EMU_DIR/log.ndjson"
	else
		cat "$EMU_DIR/log.ndjson"
	fi
}

# Compare two JSON texts as values.
json_eq() {
	[ "$(jq -S -c . <<<"$1")" = "$(jq -S -c . <<<"$2")" ] || {
		echo "expected: $2" >&2
		echo "actual:   $1" >&2
		return 1
	}
}

# Fail unless the command fails.  A bare "! cmd" does not fail a bats
# test unless it is the last command, so tests use this instead.
refute() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
}

# The model names of lib/models.tsv: all, or those retired ("retired",
# or an end of life not after $1), or those not.
tsv_models() {
	awk -F '\t' -v want="$1" -v today="${2:-}" '
		/^#/ || NF < 6 { next }
		{ r = $6 == "retired" || ($6 != "-" && $6 <= today) }
		want == "all" || (want == "retired") == r { print $1 }' "$CA_ROOT/lib/models.tsv"
}

# $output is the one error record a tool that refused to run leaves:
# is_refused TOOL ETYPE.  With one line on stderr, the record's message
# is that line without the tool's name (bats drops trailing blanks).
# shellcheck disable=SC2154	# output, stderr and stderr_lines: bats's run
is_refused() {
	local m
	[ "$(jq -sc 'map([.type, .tool, .status, .request_id, .error.type])' <<<"$output")" = "[[\"error\",\"$1\",null,null,\"$2\"]]" ] || return 1
	[ "${#stderr_lines[@]}" -eq 1 ] || return 0
	m=$(jq -r .error.message <<<"$output")
	[ "${m%"${m##*[![:space:]]}"}" = "${stderr#"$1: "}" ]
}
