#!/usr/bin/env bats
# ca-chat: a conversation from the filters, against the emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	emu_start
}

teardown_file() {
	emu_stop
}

setup() {
	ca_test_setup
	# No real rlwrap, unless a test puts a fake one on PATH.
	export CA_CHAT_RLWRAP=1
}

# The texts of the user messages of each request the emulator received,
# one request a line: "first|second|...".
sent_prompts() {
	emu_log /v1/messages | jq -r '[.body.messages[] | select(.role == "user") |
		(.content | if type == "string" then . else
			[.[] | select(.type == "text") | .text] | join("") end)] | join("|")'
}

@test "ca-chat: --help prints the usage on stdout and exits 0" {
	run --separate-stderr ca-chat --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == "usage: ca-chat "* ]]
	[[ "$output" == *"--fresh-container"* ]]
	run --separate-stderr ca-chat --bogus
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ca-chat: unknown option --bogus"* ]]
	run --separate-stderr ca-chat -t
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ca-chat: -t needs an argument"* ]]
}

@test "ca-chat: --version prints the version of the toolkit" {
	run --separate-stderr ca-chat --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ca-chat\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	v=$(sed -n 's/^#define CA_VERSION[[:space:]]*"\(.*\)"/\1/p' "$CA_ROOT/lib/ca.h")
	[ -n "$v" ] || skip "lib/ca.h has no CA_VERSION yet (part A)"
	[ "$output" = "ca-chat $v" ]
}

@test "ca-chat: a failed turn does not end the conversation" {
	# The first turn is overloaded for every attempt ca-exec makes.
	emu_fault '[{"path":"/v1/messages","status":529,"times":3}]'
	run --separate-stderr ca-chat -t s.ndjson <<<$'one\ntwo\nthree'
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"ca-chat: that turn failed for now (a temporary error); the next prompt continues from the last answer"* ]]
	[[ "$stderr" == *"skipped the failed turn r1"*"(no response); continuing from the start"* ]]
	# Three attempts at "one", then "two" from the start, then "three"
	# after the answer to "two".
	[ "$(sent_prompts | tail -2 | tr '\n' '/')" = "two/two|three/" ]
	[ "$(grep -c '"type":"response"' s.ndjson)" -eq 2 ]
	# Run again on the same transcript: it resumes after "three".
	run --separate-stderr ca-chat -t s.ndjson <<<'four'
	[ "$status" -eq 0 ]
	[ "$(sent_prompts | tail -1)" = "two|three|four" ]
}

@test "ca-chat: a failure in the middle is skipped; the exit status follows the rule" {
	run --separate-stderr ca-chat -t s.ndjson <<<'one'
	[ "$status" -eq 0 ]
	# A permanent failure (400), then a temporary one: 1 wins.
	emu_fault '[{"path":"/v1/messages","status":400,"times":1},{"path":"/v1/messages","status":529,"times":3}]'
	run --separate-stderr ca-chat -t s.ndjson <<<$'two\nthree\nfour'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ca-chat: that turn failed; the next prompt continues from the last answer"* ]]
	[[ "$stderr" =~ skipped\ the\ failed\ turns\ r2[^\ ]*,\ r3[^\ ]*\ \(no\ response\)\;\ continuing\ from\ r1 ]]
	[ "$(sent_prompts | tail -1)" = "one|four" ]
	# The only turn failing for now is 75, not 0.
	emu_fault '[{"path":"/v1/messages","status":529,"times":3}]'
	run --separate-stderr ca-chat -t other.ndjson <<<'hi'
	[ "$status" -eq 75 ]
}

@test "ca-chat: --fresh-container starts anew when the container expired" {
	run ca-chat -t s.ndjson <<<'one'
	[ "$status" -eq 0 ]
	sed -i 's/"expires_at":"[^"]*"/"expires_at":"2020-01-01T00:00:00Z"/g' s.ndjson
	run --separate-stderr ca-chat -t s.ndjson <<<'two'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"use --fresh-container to start a new one"*"ca-chat: that prompt was not sent"* ]]
	run --separate-stderr ca-chat --fresh-container -t s.ndjson <<<'three'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"starting a fresh one"* ]]
	[ "$(emu_log /v1/messages | tail -1 | jq 'has("body") and (.body | has("container") | not)')" = true ]
	[ "$(sent_prompts | tail -1)" = "one|three" ]
}

@test "ca-chat: lines between two \"\"\" lines are one prompt" {
	run --separate-stderr ca-chat -t s.ndjson <<<$'first\n"""\nline a\n\nline b\n"""\nlast'
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 3 ]
	json_eq "$(emu_log /v1/messages | tail -1 | jq -c '[.body.messages[] | select(.role == "user") | .content[0].text]')" \
		'["first","line a\n\nline b","last"]'
}

@test "ca-chat: a last prompt without a newline is a turn, its heading on its own line" {
	command -v script >/dev/null || skip "script(1) is not installed"
	printf 'hi\004\004' | NO_COLOR=1 script -qec "ca-chat -t s.ndjson" /dev/null >tty.out
	tr -d '\r' <tty.out | grep -qx '━━ turn r1[^ ]* ━━'
	[ "$(sent_prompts)" = hi ]
}

@test "ca-chat: its temporary files live in one private directory" {
	mkdir tmp bin
	# A ca-exec that lists ca-chat's temporaries while a turn runs.
	cat >bin/ca-exec <<-EOT
	#!/bin/sh
	find "\$TMPDIR" -mindepth 1 -maxdepth 1 -printf '%f %m %y\n' >>"$PWD/during"
	exec "$CA_ROOT/ca-exec" "\$@"
	EOT
	chmod +x bin/ca-exec
	echo 'a,b' >data.csv
	PATH="$PWD/bin:$PATH" TMPDIR="$PWD/tmp" run ca-chat -t s.ndjson data.csv <<<'hi'
	[ "$status" -eq 0 ]
	[ "$(wc -l <during)" -eq 1 ]
	[[ "$(cat during)" =~ ^ca-chat\.[A-Za-z0-9]{6}\ 700\ d$ ]]
	[ -z "$(ls tmp)" ]
}

@test "ca-chat: rlwrap edits the lines of a person at a terminal, when installed" {
	command -v script >/dev/null || skip "script(1) is not installed"
	mkdir bin
	cat >bin/rlwrap <<-EOT
	#!/bin/sh
	printf '%s\n' "\$*" "\$CA_CHAT_RLWRAP" >"$PWD/rlwrap.args"
	EOT
	chmod +x bin/rlwrap
	unset CA_CHAT_RLWRAP
	PATH="$PWD/bin:$PATH" script -qec "ca-chat -t s.ndjson -m claude-sonnet-4-6 x.csv" /dev/null </dev/null
	[ "$(cat rlwrap.args)" = "-C ca-chat $CA_ROOT/ca-chat -d ca-chat-files -t s.ndjson -m claude-sonnet-4-6 -- x.csv
1" ]
	# Not from a pipe.
	rm rlwrap.args
	PATH="$PWD/bin:$PATH" run ca-chat -t s.ndjson <<<''
	[ "$status" -eq 0 ]
	[ ! -e rlwrap.args ]
}
