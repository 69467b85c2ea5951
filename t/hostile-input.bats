#!/usr/bin/env bats
# Hostile input to the newer parts (ca-exec --max-cost and --count, -j,
# ca-request's prompt sources and -P, ca-render to a terminal): each
# case a hostile server or file could bring.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

reqs() {
	local i
	for i in $(seq "$1"); do ca-request -n -i "q$i" "say $i"; done
}

# ---- ca-exec --max-cost fails closed ----

@test "--max-cost: an answer whose usage cannot be priced stops the run" {
	reqs 8 >r.ndjson
	for f in '"usage_drop":["input_tokens"]' '"usage":{"input_tokens":-5}' \
	    '"usage":{"output_tokens":"12"}' '"usage":{"input_tokens":null}' \
	    '"usage":{"output_tokens":1.5}' '"usage":{"cache_read_input_tokens":-1}' \
	    '"usage_drop":["output_tokens"]'; do
		emu_reset
		emu_fault "[{\"path\":\"/v1/messages\",\"times\":-1,$f}]"
		for s in '' -s; do
			run --separate-stderr ca-exec $s --max-cost 0.015 <r.ndjson
			[ "$status" -eq 1 ] || { echo "$f $s: $status"; return 1; }
			[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output")" = q1 ]
			[ "$(jq -r 'select(.type == "error") | .error.type' <<<"$output" | sort -u)" = budget_exceeded ]
			[ "$(jq -r 'select(.type == "error") | .custom_id' <<<"$output" | wc -l)" -eq 7 ]
			[[ "$stderr" == *"q1: the answer's usage."*" cannot be priced: --max-cost stops the run"* ]]
			[[ "$stderr" == *"q2: budget_exceeded: not sent: an answer's usage."*" could not be priced"* ]]
		done
		[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
	done
	# Without a cap the same answers pass as they came, status 0.
	run --separate-stderr ca-exec <r.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | wc -l)" -eq 8 ]
}

# ---- ca-exec -s -j: answers still streaming count against the bound ----

@test "ca-exec -s -j 16 with 24 MB answers stays near its 256 MiB bound on held output" {
	command -v /usr/bin/time >/dev/null || skip "no GNU time"
	# Unbounded, the peak was 867 MiB (ordered) and 706 MiB (-u).
	run python3 "$CA_ROOT/bench/hold.py" --jobs 16 --mb 24 --check 480
	echo "$output"
	[ "$status" -eq 0 ]
	run python3 "$CA_ROOT/bench/hold.py" --jobs 16 --mb 24 --unordered --check 480
	echo "$output"
	[ "$status" -eq 0 ]
}

# ---- ca-request: a prompt is UTF-8 text, a -P number a JSON one ----

@test "ca-request refuses a NUL in a prompt file, invalid UTF-8, and -P numbers JSON cannot carry" {
	run --separate-stderr bash -c "printf 'a\0b' | ca-request -f -"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"ca-request: standard input: a NUL byte at byte 1"* ]]
	printf 'ab\0c' >p.txt
	run --separate-stderr ca-request -n -f p.txt
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"p.txt: a NUL byte at byte 2"* ]]
	run --separate-stderr bash -c "printf 'caf\351' | ca-request -f -"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"standard input: not UTF-8 text (byte 3 is 0xe9)"* ]]
	run --separate-stderr ca-request -n "$(printf 'caf\351')"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"the prompt: not UTF-8 text (byte 3 is 0xe9)"* ]]
	run --separate-stderr ca-request -n -s "$(printf '\355\240\200')" hi
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-s: not UTF-8 text (byte 0 is 0xed)"* ]]
	for v in 1e999 -1e999 '[1,{"a":1e400}]'; do
		run --separate-stderr ca-request -n -P "x=$v" hi
		[ "$status" -eq 2 ] || { echo "accepted $v"; return 1; }
		[[ "$stderr" == *"-P x: a number too large for JSON to carry"* ]]
	done
	# What is fine stays fine: UTF-8, and large finite numbers.
	run --separate-stderr ca-request -n -P 'x=1e300' "$(printf 'caf\303\251')"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.params.messages[0].content[0].text' <<<"$output")" = "café" ]
	[ "$(jq -r '.params.x' <<<"$output")" = 1e+300 ]
}

# ---- ca-exec --count: a count is a whole number, 0 or more ----

@test "ca-exec --count turns a negative, fractional or string count into an error record" {
	ca-request -n -i c1 hi >r.ndjson
	for v in -5 2.5 '"12"' null 1e300; do
		emu_reset
		emu_fault "[{\"path\":\"/v1/messages/count_tokens\",\"status\":200,\"headers\":{\"content-type\":\"application/json\"},\"body\":{\"input_tokens\":$v}}]"
		run --separate-stderr ca-exec --count <r.ndjson
		[ "$status" -eq 1 ] || { echo "accepted $v"; return 1; }
		[ "$(jq -r 'select(.type == "count") | .custom_id' <<<"$output")" = "" ]
		[ "$(jq -r 'select(.type == "error") | .custom_id + " " + .error.type' <<<"$output")" = "c1 invalid_response" ]
		[[ "$(jq -r 'select(.type == "error") | .error.message' <<<"$output")" == *"input_tokens is not a count of tokens"* ]]
	done
	# A good one still passes.
	emu_reset
	run --separate-stderr ca-exec --count <r.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "count") | .input_tokens | . >= 1 and . == floor' <<<"$output")" = true ]
}
