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
