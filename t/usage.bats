#!/usr/bin/env bats
# Usage errors, from one table: each line of t/usage.ndjson runs one tool
# with bad options, operands, environment or input.  A new check, or a new
# tool, is a new line there, not a new test here.
#
# A line is a JSON object:
#   tool     the program, found on PATH (the freshly built tools come first)
#   args     its arguments, an array of strings
#   stdin    optional: the text on its standard input (default: none)
#   env      optional: variables to set, or to unset with null; the rest
#            is the tests' own (the emulator's URL and the test key)
#   files    optional: files made first in the empty directory it runs in,
#            name to content
#   status   the exit status it must give (2: see ca(7))
#   stderr   an extended regular expression (bash =~) that standard error,
#            all of it, must match, where "." matches a newline too:
#            "^ca-x: message(\n|$)" is the whole of its first line (a usage
#            error may go on with the synopsis); "^ca-x: .*words" a message
#            from the tool that says those words somewhere
# Every line must also send nothing to the emulator: a usage error is
# found before any request.  On standard output it must write the one
# error record that says so to the tools after it (ca(7)): its "tool",
# and its message a line of stderr (control bytes shown as there,
# \xNN); nothing from a tool whose
# standard output carries no records (ca-render, ca-chat, ca-emu).  A
# syntax error (an unknown option, an argument missing or extra) goes on
# with the synopsis; any other has none.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

TABLE="$BATS_TEST_DIRNAME/usage.ndjson"

# The shell assignments of one line, from one jq: tool, want, re, args,
# stdin, unset (names), set and files (name, value, name, value...), and
# extra (unknown keys: a typo must not pass unnoticed).
ROW_SH='@sh "tool=\(.tool // "") want=\(.status // "") re=\(.stderr // "")",
	@sh "args=(\(.args // []))",
	@sh "stdin=\(.stdin // "")",
	@sh "unset=(\([.env // {} | to_entries[] | select(.value == null) | .key]))",
	@sh "set=(\([.env // {} | to_entries[] | select(.value != null) | .key, .value]))",
	@sh "files=(\([.files // {} | to_entries[] | .key, .value]))",
	@sh "extra=\(keys - ["tool", "args", "stdin", "env", "files", "status", "stderr"] | join(" "))"'

# refusal_out TOOL FILE STDERR: FILE, the tool's stdout, is the record.
refusal_out() {
	local got
	case $1 in
	ca-render|ca-chat|ca-emu)
		[ ! -s "$2" ] || echo "wrote on stdout: $(head -c 200 "$2")"
		return ;;
	esac
	got=$(jq -r --arg t "$1" 'def hex: "0123456789abcdef"[. : . + 1];
	    select(.type == "error" and .tool == $t and .status == null and
	    .request_id == null) | .error.type + " " + ([.error.message |
	    explode[] | if . < 32 or . == 127 then "\\x" + ((. / 16 |
	    floor) | hex) + (. % 16 | hex) else [.] | implode end] |
	    add // "")' "$2" 2>/dev/null)
	if [ "$(wc -l <"$2")" -ne 1 ] ||
	    [[ ! "$got" =~ ^(usage_error|environment_error|file_error)\ (.*)$ ]] ||
	    [[ $'\n'"$3"$'\n' != *$'\n'"$1: ${BASH_REMATCH[2]}"$'\n'* ]]; then
		echo "stdout is not its one error record: $(head -c 300 "$2")"
	fi
}

# one_line STDERR: the synopsis follows a syntax error, and only that.
one_line() {
	if [[ "$1" =~ (unknown\ option|needs\ an\ argument|takes\ no\ argument) ]]; then
		[[ "$1" == *$'\n'usage:* ]] || echo "a syntax error without the synopsis"
	elif [[ $'\n'"$1" == *$'\n'usage:* ]]; then
		echo "the synopsis after a bad value"
	fi
}

# run_row N JSON: run line N of the table; print what is wrong, if anything.
run_row() {
	local n=$1 row=$2 dir tool want re stdin extra rc err i
	local -a args unset set files
	eval "$(jq -r "$ROW_SH" <<<"$row")" || { echo "not a JSON object"; return; }
	[ -z "$extra" ] || { echo "unknown key: $extra"; return; }
	[ -n "$tool" ] && [ -n "$want" ] && [ -n "$re" ] ||
		{ echo "tool, status and stderr are required"; return; }
	dir="$BATS_TEST_TMPDIR/row$n"
	mkdir "$dir"
	printf '%s' "$stdin" >"$dir.in"
	for ((i = 0; i < ${#files[@]}; i += 2)); do
		printf '%s' "${files[i + 1]}" >"$dir/${files[i]}"
	done
	# A subshell, not env(1): under make valgrind the tools are functions.
	(
		cd "$dir" || exit 99
		for i in "${unset[@]}"; do unset "$i"; done
		for ((i = 0; i < ${#set[@]}; i += 2)); do export "${set[i]}=${set[i + 1]}"; done
		"$tool" "${args[@]}" <"$dir.in" >"$dir.out" 2>"$dir.err"
	)
	rc=$?
	err=$(cat "$dir.err")
	[ "$rc" = "$want" ] || echo "exit $rc, want $want"
	[[ "$err" =~ $re ]] || echo "stderr does not match /$re/: $err"
	refusal_out "$tool" "$dir.out" "$err"
	[[ "$tool" == ca-chat || "$tool" == ca-emu ]] || one_line "$err"
	if [ -s "$EMU_DIR/log.ndjson" ]; then
		echo "sent: $(jq -r '.method + " " + .path' "$EMU_DIR/log.ndjson" | tr '\n' ' ')"
		emu_reset
	fi
}

@test "every line of t/usage.ndjson: its exit status, its stderr, its error record, nothing sent" {
	local n=0 rows=0 bad=0 row why
	while IFS= read -r row; do
		n=$((n + 1))
		[ -n "$row" ] || continue
		rows=$((rows + 1))
		why=$(run_row "$n" "$row" 2>&1)
		if [ -n "$why" ]; then
			bad=$((bad + 1))
			printf 't/usage.ndjson:%d: %s\n' "$n" "$(jq -c '[.tool] + .args' <<<"$row" 2>/dev/null || echo "$row")"
			sed 's/^/    /' <<<"$why"
		fi
	done <"$TABLE"
	echo "$rows lines, $bad failed"
	[ "$rows" -gt 0 ]
	[ "$bad" -eq 0 ]
}

@test "every tool has a line in t/usage.ndjson" {
	local t
	for t in "${CA_TOOLS[@]}" ca-chat ca-emu; do
		jq -se --arg t "$t" 'any(.[]; .tool == $t)' "$TABLE" >/dev/null ||
			{ echo "no usage line for $t"; return 1; }
	done
}
