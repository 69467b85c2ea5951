#!/usr/bin/env bats
# Heavy and interrupted runs: ca-exec's rate limiter (lib/ca_pace.c,
# through t/unit/pace-test on a made-up clock, and against the
# emulator's rate-limited mode), the stop at a spend limit, and
# --skip-done.  Counts and orders only: what the emulator saw, the
# records written, the exit status; never how long anything took.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

pt() { "$CA_ROOT/t/unit/pace-test"; }

# N small request records, custom_ids r1 .. rN.
reqs() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"request\",\"custom_id\":\"r%d\",\"params\":{\"model\":\"claude-opus-5-5\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"request %d\"}]}}\n", i, i }'
}

msgs() { emu_log /v1/messages; }
n429() { msgs | jq -c 'select(.status == 429)' | wc -l; }

# --- the limiter, on a made-up clock --------------------------------------

@test "limiter: nothing known, nothing held; a spent request limit holds until it refills" {
	run -0 pt <<-'EOF2'
	init 4 0 0
	wait 0 100
	sent 0 100
	seen 0 200 100 requests-limit=60 requests-remaining=0 requests-reset=60
	wait 0 100
	wait 0.5 100
	wait 1 100
	EOF2
	[ "$output" = "$(printf '0.000\n1.000\n0.500\n0.000')" ]
}

@test "limiter: the first answer counts the requests still on their way" {
	run -0 pt <<-'EOF2'
	init 4 0 0
	sent 0 10
	sent 0 10
	sent 0 10
	seen 0 200 10 requests-limit=60 requests-remaining=2 requests-reset=60
	wait 0 10
	EOF2
	# 2 left, 2 more on their way: none left; one a second refills.
	[ "$output" = 1.000 ]
}

@test "limiter: input tokens: a request waits for its estimate to refill" {
	run -0 pt <<-'EOF2'
	init 4 0 0
	sent 0 100
	seen 0 200 100 input-tokens-limit=6000 input-tokens-remaining=100 input-tokens-reset=59
	wait 0 100
	wait 0 300
	EOF2
	# 100 a second refill: 100 there now, 300 wants 2 s more.
	[ "$output" = "$(printf '0.000\n2.000')" ]
}

@test "limiter: a bucket smaller than a minute is read from the reset time" {
	# 60 a minute, full again in 10 s with 0 left: it holds about 10
	# (the reset is in whole seconds), not 60.  A hundred seconds on,
	# it is full; twelve requests leave it two or so short.
	{
		printf '%s\n' 'init 64 0 0' 'sent 0 1' \
		    'seen 0 200 1 requests-limit=60 requests-remaining=0 requests-reset=10' \
		    'wait 100 1'
		for i in $(seq 12); do echo 'sent 100 1'; done
		echo 'wait 100 1'
	} >cmds
	run -0 pt <cmds
	[ "$(sed -n 1p <<<"$output")" = 0.000 ]
	awk 'NR == 2 && $1 >= 2 && $1 < 5 { ok = 1 } END { exit !ok }' <<<"$output"
}

@test "limiter: 429 and 529 halve the window once a burst, success grows it back by one a window" {
	run -0 pt <<-'EOF2'
	init 8 0 0
	window
	seen 0 429 1
	window
	seen 0.1 429 1
	window
	seen 2 529 1
	window
	room 1
	room 2
	seen 3 200 1
	seen 3 200 1
	window
	EOF2
	[ "$output" = "$(printf '8\n4\n4\n2\n1\n0\n3')" ]
}

@test "limiter: retry-after holds every request" {
	run -0 pt <<-'EOF2'
	init 8 0 0
	seen 0 429 1 retry-after=3
	wait 1 1
	wait 3 1
	EOF2
	[ "$output" = "$(printf '2.000\n0.000')" ]
}

@test "limiter: --rate and --tpm are buckets of one second's worth" {
	run -0 pt <<-'EOF2'
	init 8 120 600
	wait 0 5
	sent 0 5
	sent 0 5
	wait 0 5
	wait 0 20
	EOF2
	# 2 requests a second; 10 tokens a second (a request over that
	# waits for a full bucket, then goes).
	[ "$output" = "$(printf '0.000\n0.500\n1.000')" ]
}

# --- ca-exec against the rate-limited emulator ----------------------------

@test "paced: every request answered, none into a 429, each sent once" {
	# Ten requests in the bucket, ten a second after.
	emu_config '{"ratelimit":{"rpm":600,"burst_s":1}}'
	reqs 30 >req
	run --separate-stderr ca-exec -j 4 <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | tr '\n' ,)" = "$(seq -f 'r%g' 1 30 | tr '\n' ,)" ]
	[ "$(msgs | wc -l)" -eq 30 ]
	[ "$(n429)" -eq 0 ]
}

@test "--no-pace: the same run sends into 429s (what pacing spares)" {
	emu_config '{"ratelimit":{"rpm":600,"burst_s":1}}'
	reqs 30 >req
	run --separate-stderr ca-exec -j 4 -r 20 --no-pace <req
	[ "$(n429)" -gt 0 ]
	[ "$(msgs | wc -l)" -eq $((30 + $(n429))) ]
}

@test "paced on input tokens: no 429 when the token limit binds" {
	# About 30 tokens a request, 300 a second, 300 in the bucket.
	emu_config '{"ratelimit":{"itpm":18000,"burst_s":1}}'
	reqs 40 >req
	run --separate-stderr ca-exec -j 8 <req
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "response")' <<<"$output" | wc -l)" -eq 40 ]
	[ "$(n429)" -eq 0 ]
}

@test "a 429 with retry-after is retried and answered; -v shows the limiter" {
	# Sixty-four at once into a bucket of five: the rest are 429s,
	# retried after retry-after, and the window shrinks.
	emu_config '{"ratelimit":{"rpm":300,"burst_s":1}}'
	reqs 12 >req
	run --separate-stderr ca-exec -v -j 12 -r 10 <req
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "response")' <<<"$output" | wc -l)" -eq 12 ]
	[ "$(n429)" -gt 0 ]
	grep -q '^ca-exec: pacing: 429 answered, in flight at most [0-9]* now: requests ' <<<"$stderr"
}

@test "--rate paces by hand, with no limit headers to go by" {
	reqs 6 >req
	run --separate-stderr ca-exec -v -j 6 --rate 120 <req
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "response")' <<<"$output" | wc -l)" -eq 6 ]
	grep -q '^ca-exec: pacing: holding requests for .*--rate 0/120' <<<"$stderr"
}

@test "--no-pace with --rate is a usage error" {
	run -2 ca-exec --no-pace --rate 10 </dev/null
}

# --- spend limit ------------------------------------------------------------

@test "a spend-limit 429 ends the run: no retry, the rest not sent, exit 1" {
	emu_config '{"ratelimit":{"spend_after":2}}'
	reqs 5 >req
	run --separate-stderr ca-exec -j 1 -r 5 <req
	[ "$status" -eq 1 ]
	# Three sent: two answered, one 429, never retried.
	[ "$(msgs | jq -r .status | tr '\n' ,)" = "200,200,429," ]
	[ "$(jq -r '"\(.type) \(.custom_id) \(.error.type // "")"' <<<"$output" | tr '\n' ,)" = "request r1 ,response r1 ,request r2 ,response r2 ,request r3 ,error r3 rate_limit_error,request r4 ,error r4 spend_limit_reached,request r5 ,error r5 spend_limit_reached," ]
	[ "$(jq -r 'select(.custom_id == "r3" and .type == "error") | "\(.status) \(.error.details.error_code) \(.attempts)"' <<<"$output")" = "429 enforced_spend_limit_reached 1" ]
	grep -q 'the spend limit is reached: sending nothing more' <<<"$stderr"
}

# --- --skip-done --------------------------------------------------------------

@test "--skip-done: a rerun sends only what has no final response, and writes everything" {
	reqs 4 >req
	ca-exec <req >full
	# As a run killed after r2's response, in the middle of a line.
	head -n 4 full >cut
	sed -n 5p full | head -c 20 >>cut
	emu_reset
	run --separate-stderr ca-exec --skip-done cut <req
	[ "$status" -eq 0 ]
	[ "$(msgs | jq -r '.body.messages[0].content' | tr '\n' ,)" = "request 3,request 4," ]
	[ "$(jq -r '"\(.type) \(.custom_id)"' <<<"$output" | tr '\n' ,)" = "request r1,response r1,request r2,response r2,request r3,response r3,request r4,response r4," ]
	# The done ones' records are the earlier run's, byte for byte.
	[ "$(sed -n 1,4p <<<"$output")" = "$(head -n 4 full)" ]
	# A rerun on a complete transcript sends nothing.
	emu_reset
	ca-exec --skip-done full <req >again
	[ "$(msgs | wc -l)" -eq 0 ]
	cmp full again
}

@test "--skip-done: an error record is sent again; a request without custom_id too" {
	reqs 2 >req
	printf '%s\n' '{"type":"request","params":{"model":"claude-opus-5-5","max_tokens":16,"messages":[{"role":"user","content":"anon"}]}}' >>req
	emu_fault '[{"path":"/v1/messages","status":400}]'
	ca-exec -j 1 <req >first || true
	[ "$(jq -r 'select(.type == "error") | .custom_id' first)" = r1 ]
	emu_reset
	run --separate-stderr ca-exec -j 1 --skip-done first <req
	[ "$status" -eq 0 ]
	[ "$(msgs | jq -r '.body.messages[0].content' | tr '\n' ,)" = "request 1,anon," ]
}

@test "--skip-done: a paused turn is continued, not restarted" {
	emu_config '{"pause_each_step":true}'
	ca-request -n -i p1 'two steps:
```python
print("one")
```
```python
print("two")
```' >req
	ca-exec <req >full
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' full | tr '\n' ,)" = "pause_turn,pause_turn,end_turn," ]
	# Killed after the first part.
	head -n 2 full >cut
	emu_reset
	emu_config '{"pause_each_step":true}'
	run --separate-stderr ca-exec --skip-done cut <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | "\(.part) \(.message.stop_reason)"' <<<"$output" | tr '\n' ,)" = "1 pause_turn,2 pause_turn,3 end_turn," ]
	[ "$(sed -n 2p <<<"$output")" = "$(sed -n 2p full)" ]
	# The first request the emulator saw goes on from part 1: the
	# turn so far as the last message, in its container.
	first=$(msgs | sed -n 1p)
	[ "$(msgs | wc -l)" -eq 2 ]
	[ "$(jq -r '.body.messages[-1].role' <<<"$first")" = assistant ]
	[ "$(jq -r .body.container <<<"$first")" = "$(sed -n 2p full | jq -r .message.container.id)" ]
}

@test "--skip-done: a missing file is a usage error" {
	run -2 ca-exec --skip-done nonexistent </dev/null
	run -2 ca-exec --skip-done /dev/null </dev/null
}

# --- ca-batch ---------------------------------------------------------------

@test "ca-batch: a spent request limit holds the next call (a poll) until it refills" {
	reset=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
	emu_fault "[{\"method\":\"POST\",\"path\":\"/v1/messages/batches\",\"headers\":{\"anthropic-ratelimit-requests-limit\":\"60\",\"anthropic-ratelimit-requests-remaining\":\"0\",\"anthropic-ratelimit-requests-reset\":\"$reset\"}}]"
	reqs 2 >req
	run --separate-stderr ca-batch -v --poll 0.1 <req
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "response")' <<<"$output" | wc -l)" -eq 2 ]
	grep -q '^ca-batch: pacing: holding the next request for ' <<<"$stderr"
}

@test "ca-batch: a spend-limit 429 on create is not retried, and is permanent" {
	emu_fault '[{"method":"POST","path":"/v1/messages/batches","status":429,"body":{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your API usage limits.","details":{"error_code":"enforced_spend_limit_reached"}},"request_id":"req_x"}}]'
	reqs 2 >req
	run --separate-stderr ca-batch -r 3 --poll 0.1 <req
	[ "$status" -eq 1 ]
	[ "$(emu_log /v1/messages/batches | jq -r .method | tr '\n' ,)" = "POST," ]
}

# --- --count-first ----------------------------------------------------------

@test "--count-first: each request is counted, then sent; the limiter is told the count" {
	reqs 2 >in
	run --separate-stderr -0 ca-exec -v --count-first <in
	# Each message follows its own count, in input order.
	[ "$(emu_log | jq -r '.path + " " + (.body.messages[0].content | tostring)' | tr '\n' ,)" = \
	    "/v1/messages/count_tokens request 1,/v1/messages request 1,/v1/messages/count_tokens request 2,/v1/messages request 2," ]
	# The count request is count_tokens' shape: no max_tokens.
	[ "$(emu_log /v1/messages/count_tokens | jq -s 'map(.body | has("max_tokens")) | any')" = false ]
	# The records are the responses only: a count is not passed on.
	[ "$(jq -r .type <<<"$output" | sort | uniq -c | awk '{ print $2 $1 }' | tr '\n' ' ')" = "request2 response2 " ]
	# -v names the count the emulator gave, request by request.
	n=$(curl -sf "${CA_API_HEADERS[@]}" -H 'content-type: application/json' \
	    --data-binary "$(head -1 in | jq -c '.params | del(.max_tokens)')" \
	    "$EMU_URL/v1/messages/count_tokens" | jq .input_tokens)
	[[ "$stderr" == *"r1: count_tokens: $n input tokens"* ]]
}

@test "--count-first: a count that fails leaves the local estimate; the message still goes" {
	emu_fault '[{"path":"/v1/messages/count_tokens","status":500,"times":1}]'
	reqs 1 >in
	run --separate-stderr -0 ca-exec -v --count-first <in
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output")" = r1 ]
	[[ "$stderr" == *"r1: count_tokens gave no count (status 500); the local estimate stands"* ]]
}
