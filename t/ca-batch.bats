#!/usr/bin/env bats
# ca-batch against the local API emulator's Message Batches API.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# req ID PROMPT [ca-request options]: one request record.
req() {
	local id=$1 prompt=$2
	shift 2
	ca-request -n -i "$id" "$@" "$prompt"
}

# reqs N: requests q1..qN with distinct prompts.
reqs() {
	local i
	for i in $(seq "$1"); do req "q$i" "prompt $i"; done
}

creates() { emu_log /v1/messages/batches | jq -c 'select(.method == "POST")'; }

# The output as "type custom_id part" lines, batch records left out.
shape() {
	jq -r 'select(.type != "batch") | [.type, .custom_id, (.part // "")] | join(" ")' "$@"
}

@test "request records in, one batch, the transcript out in input order" {
	reqs 3 >in
	run --separate-stderr ca-batch --poll 0.1 <in
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	echo "$output" >out
	[ "$(creates | wc -l)" -eq 1 ]
	json_eq "$(creates | jq -c '[.body.requests[].custom_id]')" '["q1","q2","q3"]'
	json_eq "$(creates | jq -c '.body.requests[1].params')" "$(sed -n 2p in | jq -c .params)"
	[ "$(shape out)" = "request q1 
response q1 1
request q2 
response q2 1
request q3 
response q3 1" ]
	bid=$(jq -r 'select(.type == "batch") | .batch.id' out | head -n 1)
	[[ $bid == msgbatch_* ]]
	# Every request and response carries the batch; the request is the
	# input record plus batch_id, byte for byte otherwise.
	[ "$(jq -r 'select(.type != "batch") | .batch_id' out | sort -u)" = "$bid" ]
	[ "$(grep '"type":"request"' out | sed -n 1p)" = "$(sed -n 1p in | sed 's/}$//'),\"batch_id\":\"$bid\"}" ]
	[[ "$(jq -r 'select(.custom_id == "q2" and .type == "response") | .message.content[0].text' out)" == 'No code to run in "prompt 2":'* ]]
	[ "$(jq -r 'select(.type == "response") | .message.usage.service_tier' out | sort -u)" = batch ]
	# The batch record: as created, then as ended, with the ids and betas.
	[ "$(jq -r 'select(.type == "batch") | .batch.processing_status' out | tr '\n' ' ')" = "in_progress ended " ]
	json_eq "$(jq -c 'select(.type == "batch") | .custom_ids' out | tail -n 1)" '["q1","q2","q3"]'
	json_eq "$(jq -c 'select(.type == "batch") | .betas' out | tail -n 1)" '[]'
	refute grep -q "$CA_TEST_KEY" "$EMU_DIR/log.ndjson"
}

@test "results come in any order; the output follows the input, or arrival with -u" {
	reqs 12 >in
	ca-batch --poll 0.1 <in >ordered
	[ "$(jq -r 'select(.type == "response") | .custom_id' ordered | tr '\n' ' ')" = "q1 q2 q3 q4 q5 q6 q7 q8 q9 q10 q11 q12 " ]
	emu_reset
	ca-batch -u --poll 0.1 <in >unordered
	bid=$(jq -r 'select(.type == "batch") | .batch.id' unordered | head -n 1)
	arrived=$(api "$EMU_URL/v1/messages/batches/$bid/results" | jq -r .custom_id | tr '\n' ' ')
	[ "$(jq -r 'select(.type == "response") | .custom_id' unordered | tr '\n' ' ')" = "$arrived" ]
	[ "$arrived" != "q1 q2 q3 q4 q5 q6 q7 q8 q9 q10 q11 q12 " ]
	# Each request still comes right before its response.
	[ "$(shape unordered | paste -d' ' - - | awk '$2 != $4 || $1 != "request"' | wc -l)" -eq 0 ]
}

@test "--max-requests splits the input into several batches" {
	reqs 5 >in
	ca-batch --max-requests 2 --poll 0.1 <in >out
	json_eq "$(creates | jq -c '[.body.requests | length]' | jq -sc add)" '[2,2,1]'
	json_eq "$(creates | jq -c '[.body.requests[].custom_id]' | jq -sc add)" '["q1","q2","q3","q4","q5"]'
	[ "$(jq -r 'select(.type == "response") | .custom_id' out | tr '\n' ' ')" = "q1 q2 q3 q4 q5 " ]
	[ "$(jq -r 'select(.type == "batch" and .batch.processing_status == "ended") | .batch.id' out | sort -u | wc -l)" -eq 3 ]
}

@test "--max-bytes bounds every create body" {
	reqs 6 >in
	# A body of about two requests: each item is the params plus its id.
	item=$(sed -n 1p in | jq -c '{custom_id, params}' | wc -c)
	max=$((2 * item + 20))
	ca-batch --max-bytes "$max" --poll 0.1 <in >out
	n=$(creates | wc -l)
	[ "$n" -ge 3 ]
	for size in $(creates | jq -c .body | awk '{ print length($0) }'); do
		[ "$size" -le "$max" ]
	done
	[ "$(jq -r 'select(.type == "response") | .custom_id' out | tr '\n' ' ')" = "q1 q2 q3 q4 q5 q6 " ]
}

@test "a batch the API refuses as too large fails its requests; --max-requests fits it" {
	emu_config '{"batch_max_requests": 2}'
	reqs 3 >in
	run --separate-stderr ca-batch --poll 0.1 <in
	[ "$status" -eq 1 ]
	[ "$(shape <<<"$output" | tr '\n' '|')" = "request q1 |error q1 1|request q2 |error q2 1|request q3 |error q3 1|" ]
	[ "$(jq -r 'select(.type == "error") | "\(.status) \(.error.type)"' <<<"$output" | sort -u)" = "400 invalid_request_error" ]
	[[ $stderr == *"at most 2 requests"* ]]
	emu_reset
	emu_config '{"batch_max_bytes": 600}'
	run --separate-stderr ca-batch --poll 0.1 <in
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "error") | "\(.status) \(.error.type)"' <<<"$output" | sort -u)" = "413 request_too_large" ]
	emu_reset
	emu_config '{"batch_max_requests": 2}'
	run ca-batch --max-requests 2 --poll 0.1 <in
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | tr '\n' ' ')" = "q1 q2 q3 " ]
}

@test "requests are grouped by their betas, one anthropic-beta per batch" {
	{ req a1 one -b mcp-client-2025-11-20; req b1 two; req a2 three -b mcp-client-2025-11-20; } >in
	ca-batch --poll 0.1 <in >out
	[ "$(creates | wc -l)" -eq 2 ]
	json_eq "$(creates | jq -c '{b: .headers["anthropic-beta"], ids: [.body.requests[].custom_id]}' | jq -sc .)" \
		'[{"b":"mcp-client-2025-11-20","ids":["a1","a2"]},{"b":null,"ids":["b1"]}]'
	json_eq "$(jq -c 'select(.type == "batch" and .batch.processing_status == "ended") | .betas' out | jq -sc .)" '[["mcp-client-2025-11-20"],[]]'
	[ "$(shape out | tr '\n' '|')" = "request a1 |response a1 1|request b1 |response b1 1|request a2 |response a2 1|" ]
}

@test "input the API would refuse is refused whole, before anything is sent" {
	for bad in dup badid stream zero; do
		emu_reset
		req ok1 fine >in
		case $bad in
		dup) req ok1 again >>in ;;
		badid) req b1 x | jq -c '.custom_id = "has space"' >>in ;;
		stream) req s1 x | jq -c '.params.stream = true' >>in ;;
		zero) req z1 x | jq -c ".params.max_tokens = 0" >>in ;;
		esac
		run --separate-stderr ca-batch --poll 0.1 <in
		[ "$status" -eq 1 ]
		[[ $stderr == *"<stdin>:2: request"* ]]
		[ "$(emu_log | wc -l)" -eq 0 ]
		# The input comes back unchanged, so a state file survives.
		[ "$output" = "$(cat in)" ]
	done
}

@test "every result kind: succeeded, errored, canceled, expired" {
	{
		req ok 'fine'
		req perm 'x
ca-emu-batch: errored'
		req temp 'x
ca-emu-batch: errored overloaded_error'
		req can 'x
ca-emu-batch: canceled'
		req exp 'x
ca-emu-batch: expired'
	} >in
	run --separate-stderr ca-batch --poll 0.1 <in
	[ "$status" -eq 1 ]
	echo "$output" >out
	[ "$(shape out | tr '\n' '|')" = "request ok |response ok 1|request perm |error perm 1|request temp |error temp 1|request can |error can 1|request exp |error exp 1|" ]
	json_eq "$(jq -c 'select(.type == "error") | {id: .custom_id, r: .result, t: .error.type, s: .status}' out | jq -sc .)" \
		'[{"id":"perm","r":"errored","t":"invalid_request_error","s":null},
		  {"id":"temp","r":"errored","t":"overloaded_error","s":null},
		  {"id":"can","r":"canceled","t":"batch_canceled","s":null},
		  {"id":"exp","r":"expired","t":"batch_expired","s":null}]'
	[[ "$(jq -r 'select(.custom_id == "perm" and .type == "error") | .request_id' out)" == req_* ]]
	# Told with the request-id of the request that failed in the batch.
	[[ $stderr == *"perm: invalid_request_error: "*"(request-id req_"* ]]
	# Without the permanent failure, only temporary ones: 75.
	grep -v '"perm"' in >in2
	run ca-batch --poll 0.1 <in2
	[ "$status" -eq 75 ]
}

@test "a paused result is continued in a follow-up batch, in the same container" {
	emu_config '{"pause_each_step": true}'
	req p1 'two steps
```python
print(1)
```
```python
print(2)
```' >in
	ca-batch --poll 0.1 <in >out
	[ "$(shape out | tr '\n' '|')" = "request p1 |response p1 1|response p1 2|response p1 3|" ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' out | tr '\n' ' ')" = "pause_turn pause_turn end_turn " ]
	[ "$(creates | wc -l)" -eq 3 ]
	c1=$(jq -r 'select(.type == "response" and .part == 1) | .message.container.id' out)
	second=$(creates | sed -n 2p)
	[ "$(jq -r '.body.requests[0].params.container' <<<"$second")" = "$c1" ]
	# The paused content is appended verbatim as the assistant's turn.
	json_eq "$(jq -c '.body.requests[0].params.messages[-1]' <<<"$second")" \
		"$(jq -c 'select(.type == "response" and .part == 1) | {role: "assistant", content: .message.content}' out)"
	third=$(creates | sed -n 3p)
	json_eq "$(jq -c '.body.requests[0].params.messages[-1].content' <<<"$third")" \
		"$(jq -c 'select(.type == "response" and .part <= 2) | .message.content' out | jq -sc add)"
	# Each part came from its own batch; the request names the last.
	[ "$(jq -r 'select(.type == "response") | .batch_id' out | sort -u | wc -l)" -eq 3 ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' out)" = "$(jq -r 'select(.type == "response" and .part == 3) | .batch_id' out)" ]
	[ "$(jq -r 'select(.part == 3) | .message.content[-1].text' out)" = "Done: 2 step(s) ran; no files." ]
}

@test "--sync-continue continues a paused result with direct Messages calls" {
	emu_config '{"pause_each_step": true}'
	req p1 'one step
```python
print(1)
```' >in
	ca-batch --sync-continue --poll 0.1 <in >out
	[ "$(shape out | tr '\n' '|')" = "request p1 |response p1 1|response p1 2|" ]
	[ "$(creates | wc -l)" -eq 1 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	[ "$(emu_log /v1/messages | jq -r .body.container)" = "$(jq -r 'select(.part == 1) | .message.container.id' out)" ]
	[[ "$(jq -r 'select(.part == 2) | .request_id' out)" == req_* ]]
}

@test "--max-continues bounds the continuations; still paused is a failure" {
	emu_config '{"pause_each_step": true}'
	req p1 'steps
```python
print(1)
```
```python
print(2)
```' >in
	run --separate-stderr ca-batch --max-continues 1 --poll 0.1 <in
	[ "$status" -eq 1 ]
	[[ $stderr == *"still paused after 1 continuations"* ]]
	[ "$(shape <<<"$output" | tr '\n' '|')" = "request p1 |response p1 1|response p1 2|" ]
}

@test "a turn left paused is continued by a later run with more --max-continues" {
	emu_config '{"pause_each_step": true}'
	req p1 'one step
```python
print(1)
```' >in
	run --separate-stderr ca-batch --max-continues 0 --poll 0.1 <in
	[ "$status" -eq 1 ]
	echo "$output" >first
	[ "$(shape first | tr '\n' '|')" = "request p1 |response p1 1|" ]
	run --separate-stderr ca-batch --poll 0.1 <first
	[ "$status" -eq 0 ]
	[ "$(shape <<<"$output" | tr '\n' '|')" = "request p1 |response p1 1|response p1 2|" ]
	[ "$(creates | wc -l)" -eq 2 ]
	[ "$(creates | sed -n 2p | jq -r '.body.requests[0].params.messages[-1].role')" = assistant ]
}

@test "--no-wait in cron: one state file, several runs, until nothing is pending" {
	emu_config '{"batch_delay_ms": 1000, "pause_each_step": true}'
	{ req c1 'a file
```python
import os
open(os.path.join(os.environ["OUTPUT_DIR"], "r.txt"), "w").write("hi\n")
```'; req c2 plain; } >state.ndjson
	runs=0
	while :; do
		runs=$((runs + 1))
		[ "$runs" -le 8 ]
		# As the recipe of ca-batch(1), EXAMPLES, runs it.
		ca-batch --state state.ndjson --no-wait && rc=0 || rc=$?
		[ "$rc" -eq 75 ] || break
		# Pending requests are in the state, each with its batch.
		[ "$(jq -r 'select(.type == "request") | .batch_id' state.ndjson | grep -c msgbatch_)" -eq 2 ]
		sleep 1.1
	done
	[ "$rc" -eq 0 ]
	[ "$runs" -ge 3 ]
	ca-fetch -d out <state.ndjson >done.ndjson
	[ "$(cat out/r.txt)" = hi ]
	[ "$(shape done.ndjson | tr '\n' '|')" = "request c1 |response c1 1|fetched c1 |response c1 2|request c2 |response c2 1|" ]
	# Nothing is ever written twice, and a last run changes nothing.
	ca-batch --no-wait <state.ndjson >again.ndjson
	[ "$(grep -v '"type":"batch"' again.ndjson)" = "$(grep -v '"type":"batch"' state.ndjson)" ]
}

@test "an interrupted run resumes from its own output; results already there pass" {
	# The batch stays in progress until the test ends the delay: the
	# signal comes while it is pending, however slow the machine.
	emu_config '{"batch_delay_ms": 3600000}'
	reqs 3 >in
	# The binary itself, not a wrapper (make valgrind), gets the signal.
	"$CA_ROOT/ca-batch" --poll 0.1 <in >part &
	pid=$!
	until grep -q '"type":"batch"' part; do
		kill -0 "$pid" || { echo "ca-batch ended early"; return 1; }
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid" && rc=0 || rc=$?
	[ "$rc" -eq 143 ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' part | grep -c msgbatch_)" -eq 3 ]
	[ "$(grep -c '"type":"response"' part)" -eq 0 ]
	emu_config '{"batch_delay_ms": 0}'
	run ca-batch --poll 0.1 <part
	[ "$status" -eq 0 ]
	echo "$output" >full
	[ "$(shape full | tr '\n' '|')" = "request q1 |response q1 1|request q2 |response q2 1|request q3 |response q3 1|" ]
	[ "$(creates | wc -l)" -eq 1 ]
	# Fed back again: everything is there; nothing is fetched again.
	emu_reset
	ca-batch --poll 0.1 <full >again
	[ "$(shape again)" = "$(shape full)" ]
	[ "$(emu_log | grep -c /results)" -eq 0 ]
	[ "$(creates | wc -l)" -eq 0 ]
}

@test "a request the batch did not return becomes an error record" {
	reqs 2 >in
	ca-batch --poll 0.1 <in >out
	# A batch record naming one more request than the batch holds.
	jq -c 'select(.type == "batch") | .custom_ids += ["ghost"]' out | tail -n 1 >in2
	run --separate-stderr ca-batch --poll 0.1 <in2
	[ "$status" -eq 1 ]
	json_eq "$(jq -c 'select(.type == "error") | {custom_id, result, t: .error.type}' <<<"$output")" \
		'{"custom_id":"ghost","result":"missing","t":"missing_result"}'
	# The others, whose request records are not there, still come out.
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | sort | tr '\n' ' ')" = "q1 q2 " ]
}

@test "a batch that is gone fails its requests for good, once" {
	reqs 1 >in
	ca-batch --no-wait <in >state || :
	bid=$(jq -r 'select(.type == "batch") | .batch.id' state)
	api -X POST "$EMU_URL/v1/messages/batches/$bid/cancel" >/dev/null
	api "$EMU_URL/v1/messages/batches/$bid" >/dev/null
	api -X DELETE "$EMU_URL/v1/messages/batches/$bid" >/dev/null
	run --separate-stderr ca-batch --poll 0.1 <state
	[ "$status" -eq 1 ]
	echo "$output" >out
	[ "$(shape out | tr '\n' '|')" = "request q1 |error q1 1|" ]
	json_eq "$(jq -c 'select(.type == "error") | {status, batch_id, t: .error.type}' out)" \
		"{\"status\":404,\"batch_id\":\"$bid\",\"t\":\"not_found_error\"}"
	# Fed back, the failure is there: nothing is asked again.
	emu_reset
	run ca-batch --poll 0.1 <out
	[ "$status" -eq 1 ]
	[ "$(emu_log | wc -l)" -eq 0 ]
	[ "$(shape <<<"$output")" = "$(shape out)" ]
}

@test "--cancel cancels the batches named, and collecting them says canceled" {
	emu_config '{"batch_delay_ms": 60000}'
	reqs 2 >in
	run ca-batch --no-wait <in
	[ "$status" -eq 75 ]
	echo "$output" >state
	{ echo '{"type":"note","x":1}'; cat state; } >in2
	ca-batch --cancel <in2 >canceled
	bid=$(jq -r 'select(.type == "batch") | .batch.id' state)
	[ "$(emu_log "/v1/messages/batches/$bid/cancel" | jq -r .method)" = POST ]
	[ "$(sed -n 1p canceled)" = '{"type":"note","x":1}' ]
	[ "$(jq -r 'select(.type == "batch") | .batch.processing_status' canceled)" = canceling ]
	json_eq "$(jq -c 'select(.type == "batch") | .custom_ids' canceled)" '["q1","q2"]'
	[ "$(grep -c '"type":"request"' canceled)" -eq 2 ]
	run --separate-stderr ca-batch --poll 0.1 <canceled
	[ "$status" -eq 75 ]
	[ "$(jq -r 'select(.type == "error") | .result' <<<"$output" | tr '\n' ' ')" = "canceled canceled " ]
}

@test "--list writes a batch record for every batch, across pages" {
	before=$(ca-batch --list | wc -l)
	body='{"requests":[{"custom_id":"l","params":{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}}]}'
	for _ in $(seq 101); do
		api -X POST -d "$body" "$EMU_URL/v1/messages/batches" >/dev/null
	done
	ca-batch --list >all
	[ "$(wc -l <all)" -eq $((before + 101)) ]
	[ "$(jq -r .type all | sort -u)" = batch ]
	[ "$(jq -r .batch.id all | sort -u | wc -l)" -eq $((before + 101)) ]
	[ "$(emu_log /v1/messages/batches | jq -r 'select(.query.after_id) | .method' | wc -l)" -ge 1 ]
}

@test "--list stops a server that repeats its cursor" {
	emu_fault '[{"method": "GET", "path": "/v1/messages/batches", "status": 200, "times": -1,
		"body": {"data": [{"id": "msgbatch_r", "type": "message_batch"}],
			"has_more": true, "first_id": "msgbatch_r", "last_id": "msgbatch_r"}}]'
	run --separate-stderr ca-batch --list
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-batch: list: the server repeats the cursor; stopping" ]
	[ "$(jq -r .batch.id <<<"$output" | tr '\n' ' ')" = "msgbatch_r msgbatch_r " ]
	# The first page, then the one its cursor names; not a third.
	[ "$(emu_log /v1/messages/batches | jq -r 'select(.method == "GET") | .query.after_id[0] // "-"' | tr '\n' ' ')" = "- msgbatch_r " ]
}

@test "a results_url on another origin is not used: the key stays home" {
	other="$BATS_TEST_TMPDIR/other"
	mkdir -p "$other"
	# A second emulator, started by the one launcher in a subshell so
	# that the tools stay pointed at the first.
	(emu_launch "$CA_ROOT" "$other" other-key)
	opid=$(cat "$other/pid")
	emu_config "{\"batch_results_port\": $(cat "$other/port")}"
	reqs 2 >in
	run ca-batch --poll 0.1 <in
	kill "$opid"
	[ "$status" -eq 0 ]
	[[ "$(jq -r 'select(.type == "batch") | .batch.results_url' <<<"$output" | tail -n 1)" == *":$(cat "$other/port")/"* ]]
	[ ! -s "$other/log.ndjson" ]
	[ "$(emu_log | jq -r 'select(.path | endswith("/results")) | .method')" = GET ]
}

@test "the results_url on the API's own origin is used as given" {
	reqs 1 >in
	ca-batch --poll 0.1 <in >out
	url=$(jq -r 'select(.type == "batch") | .batch.results_url' out | tail -n 1)
	[ "$(emu_log | jq -r 'select(.path | endswith("/results")) | .path')" = "${url#"$EMU_URL"}" ]
}

@test "-r sets the retries of a create; a temporary failure is 75" {
	emu_fault '{"method":"POST","path":"/v1/messages/batches","times":5,"status":529}'
	reqs 1 >in
	run --separate-stderr ca-batch -r 1 --poll 0.1 <in
	[ "$status" -eq 75 ]
	[ "$(creates | wc -l)" -eq 2 ]
	[ "$(shape <<<"$output" | tr '\n' '|')" = "request q1 |error q1 1|" ]
	[ "$(jq -r 'select(.type == "error") | .status' <<<"$output")" = 529 ]
	# Under --no-wait the request stays as it was, for the next run.
	emu_reset
	emu_fault '{"method":"POST","path":"/v1/messages/batches","times":5,"status":529}'
	run --separate-stderr ca-batch -r 0 --no-wait <in
	[ "$status" -eq 75 ]
	[ "$output" = "$(cat in)" ]
}

@test "a poll answered with retry-after waits that long before the next" {
	emu_config '{"batch_delay_ms": 500}'
	emu_fault '{"method":"GET","path":"/v1/messages/batches/*","times":1,"headers":{"retry-after":"2"}}'
	reqs 1 >in
	run ca-batch --poll 0.1 <in
	[ "$status" -eq 0 ]
	# Polls every 0.1, 0.2, 0.4 s would look 3 times before the batch
	# ends at 0.5 s; after "retry-after: 2", the second look finds it
	# ended.
	[ "$(emu_log | jq -r 'select(.method == "GET" and (.path | endswith("/results") | not)) | .path' | wc -l)" -eq 2 ]
}

@test "-v shows each batch's progress on stderr; records not owned pass in order" {
	# Long enough that even a slow start (valgrind) sees it in progress.
	emu_config '{"batch_delay_ms": 2000}'
	{ echo '{"type":"file","path":"a","file":{"id":"file_1"}}'; reqs 1; echo '{"type":"note","n":2}'; } >in
	run --separate-stderr ca-batch -v --poll 0.1 <in
	[ "$status" -eq 0 ]
	[[ $stderr == *"msgbatch_"*": in_progress: 1 processing, 0 succeeded"* ]]
	[[ $stderr == *": ended: 0 processing, 1 succeeded, 0 errored"* ]]
	[ "$(jq -r 'select(.type != "batch") | .type' <<<"$output" | tr '\n' ' ')" = "file request response note " ]
	[ "$(sed -n 1p <<<"$output")" = "$(sed -n 1p in)" ]
}

@test "the transcript works downstream: ca-request --continue and ca-render" {
	req t1 'hello there' >in
	ca-batch --poll 0.1 <in >out
	ca-request -C 'and again' <out >next
	[ "$(jq -r '.params.messages | length' next)" -eq 3 ]
	[[ "$(jq -r '.params.messages[1].content[0].text' next)" == 'No code to run in "hello there":'* ]]
	run ca-render --color=never <out
	[ "$status" -eq 0 ]
	[[ $output == *'No code to run in "hello there"'* ]]
}

@test "bad records are reported with their line and passed through; nothing is sent for them" {
	printf '%s\n' '{"type":"batch","batch":{"id":"../../v1/files"}}' 'not json' \
		'{"type":"request","custom_id":"x","batch_id":"a/b","params":{}}' >in
	for opt in --poll=0.1 --cancel; do
		run --separate-stderr ca-batch "$opt" <in
		[ "$status" -eq 1 ]
		[[ $stderr == *"<stdin>:1: batch record without a good batch.id"* ]]
		[[ $stderr == *"<stdin>:2: not a JSON object"* ]]
		[ "$(jq -c . <<<"$output" | wc -l)" -eq 2 ]
		[ "$(sed -n 1p <<<"$output")" = "$(sed -n 1p in)" ]
	done
	[ "$(emu_log | wc -l)" -eq 0 ]
}

# The cron recipe of ca-batch(1), EXAMPLES, as the page gives it: run.sh,
# and the line that adds a request to the state (add.sh).  The tests run
# the page's own text, so the page cannot drift from what is tested.
recipe() {
	python3 "$CA_ROOT/t/examples.py" block "$CA_ROOT/man/ca-batch.1" '^# run.sh' |
		sed -n '/^# run.sh/,$p' >run.sh
	python3 "$CA_ROOT/t/examples.py" block "$CA_ROOT/man/ca-batch.1" 'report-' >add.sh
	[ "$(grep -c ca-batch run.sh)" -ge 1 ]
	grep -q 'ca-request -i report-' add.sh
	# README.md and ca(7) give the same recipe.
	local doc
	for doc in README.md man/ca.7; do
		[ "$(python3 "$CA_ROOT/t/examples.py" block "$CA_ROOT/$doc" 'ca-batch --state')" = "$(sed 1d run.sh)" ]
	done
	echo 'Write a report.' >report.md
}

# Wait (boundedly) until a run holds the state: its output beside it.
await_run() {
	local _
	for _ in $(seq 100); do
		ls -A | grep -q '^\.ca-batch\.' && return 0
		sleep 0.1
	done
	return 1
}

@test "the cron recipe: a run that cannot write leaves the state as it was" {
	recipe
	{ req big1 "$(printf 'long %.0s' $(seq 300))"; req big2 two; } >state.ndjson
	cp state.ndjson before
	# No temporary directory: nothing is sent, the state stays, 74.
	TMPDIR=/nonexistent sh run.sh
	cmp state.ndjson before
	[ "$(emu_log | wc -l)" -eq 0 ]
	TMPDIR=/nonexistent run --separate-stderr ca-batch --state state.ndjson --no-wait
	[ "$status" -eq 74 ]
	[[ $stderr == *"cannot make a temporary file in /nonexistent"* ]]
	# A full disk (a file size limit: every write past 1 KiB fails).
	(ulimit -f 1; sh run.sh)
	cmp state.ndjson before
	[ "$(emu_log | wc -l)" -eq 0 ]
	[ -z "$(ls -A | grep '^\.ca-batch\.')" ]
	# Standard output that cannot be written: 74, for every tool.
	ca-batch --no-wait <state.ndjson >/dev/full && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
	ca-request -n hello >/dev/full && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
	emu_reset
	# And once it can write, the recipe goes on from the same state.
	sh run.sh
	[ "$(creates | wc -l)" -eq 1 ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' state.ndjson | grep -c msgbatch_)" -eq 2 ]
}

@test "the cron recipe: a second run while one goes on sends nothing" {
	recipe
	emu_fault '{"method":"POST","path":"/v1/messages/batches","latency_ms":3000}'
	reqs 2 >state.ndjson
	sh run.sh 2>first.err &
	pid=$!
	await_run
	sh run.sh
	run --separate-stderr ca-batch --state state.ndjson --no-wait
	[ "$status" -eq 75 ]
	[ "$stderr" = "ca-batch: state.ndjson: another ca-batch is updating it; nothing was sent" ]
	wait "$pid"
	# One batch, made by the first run; the second sent nothing.
	[ "$(creates | wc -l)" -eq 1 ]
	[ "$(emu_log | wc -l)" -eq 1 ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' state.ndjson | sort -u | grep -c msgbatch_)" -eq 1 ]
	[ "$(jq -r 'select(.type == "request") | .custom_id' state.ndjson | tr '\n' ' ')" = "q1 q2 " ]
	[ -z "$(ls -A | grep '^\.ca-batch\.')" ]
}

@test "the cron recipe: requests added while a run goes on are kept" {
	recipe
	emu_fault '{"method":"POST","path":"/v1/messages/batches","latency_ms":3000}'
	reqs 1 >state.ndjson
	sh run.sh &
	pid=$!
	await_run
	# The page's way waits for the run; a plain append is carried over.
	sh add.sh
	req late 'appended' >>state.ndjson
	wait "$pid"
	[ "$(jq -r 'select(.type == "request") | .custom_id' state.ndjson | sed 's/-.*//' | tr '\n' ' ')" = "q1 report late " ]
	# The next run submits both.
	sh run.sh
	[ "$(creates | wc -l)" -eq 2 ]
	[ "$(creates | sed -n 2p | jq -r '[.body.requests[].custom_id | sub("-.*"; "")] | join(" ")')" = "report late" ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' state.ndjson | grep -c msgbatch_)" -eq 3 ]
}

@test "--add appends all the records or none" {
	reqs 2 | ca-batch --state s.ndjson --add
	[ "$(jq -r .custom_id s.ndjson | tr '\n' ' ')" = "q1 q2 " ]
	printf '%s\n' '{"type":"request","custom_id":"q3","params":{}}' 'not json' |
		ca-batch --state s.ndjson --add 2>err && rc=0 || rc=$?
	[ "$rc" -eq 1 ]
	[ "$(cat err)" = "ca-batch: <stdin>:2: not a JSON object, skipped" ]
	[ "$(jq -r .custom_id s.ndjson | tr '\n' ' ')" = "q1 q2 q3 " ]
	# A file size limit: nothing is added, not half a record.
	cp s.ndjson before
	(ulimit -f 1; req big "$(printf 'long %.0s' $(seq 300))" | ca-batch --state s.ndjson --add) && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
	cmp s.ndjson before
}

# A batch left in progress by a --no-wait run: the state, and its id.
pending_state() {
	emu_config '{"batch_delay_ms": 600000}'
	reqs "${1:-1}" >in
	ca-batch --no-wait <in >state && rc=0 || rc=$?
	[ "$rc" -eq 75 ]
	bid=$(jq -r 'select(.type == "batch") | .batch.id' state)
	[[ $bid == msgbatch_* ]]
}

@test "the server's processing_status reaches the progress line cleaned" {
	pending_state
	body=$(api "$EMU_URL/v1/messages/batches/$bid" |
		jq -c '.processing_status = "in_progress\u001b]0;owned\u0007"')
	emu_fault "{\"method\":\"GET\",\"path\":\"/v1/messages/batches/$bid\",\"status\":200,\"body\":$body}"
	run --separate-stderr ca-batch -v --no-wait <state
	[ "$status" -eq 75 ]
	[[ $stderr == *"$bid: in_progress\\x1b]0;owned\\x07: 1 processing"* ]]
	refute grep -q $'\e' <<<"$stderr"
}

@test "a signal ends a results download that never ends; what is pending is written" {
	reqs 2 >in
	ca-batch --poll 0.1 --no-wait <in >state && rc=0 || rc=$?
	[ "$rc" -eq 75 ]
	emu_fault '{"method":"GET","path":"/v1/messages/batches/*/results","hang_ms":600000}'
	"$CA_ROOT/ca-batch" -v --poll 0.1 <state >out 2>err &
	pid=$!
	for _ in $(seq 100); do grep -q 'GET the results of' err && break; sleep 0.1; done
	grep -q 'GET the results of' err
	kill -TERM "$pid"
	# It ends now, not when the server would let it (bounded wait).
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; false; fi
	wait "$pid" && rc=0 || rc=$?
	[ "$rc" -eq 143 ]
	# The requests are written as pending, each with its batch; no
	# error record, and no report of the aborted transfer.
	[ "$(shape out | tr '\n' '|')" = "request q1 |request q2 |" ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' out | grep -c msgbatch_)" -eq 2 ]
	refute grep -qi 'abort' err
	# Fed back, the next run collects them.
	emu_reset
	run ca-batch --poll 0.1 <out
	[ "$status" -eq 0 ]
	[ "$(shape <<<"$output" | tr '\n' '|')" = "request q1 |response q1 1|request q2 |response q2 1|" ]
}

@test "a poll's retry-after is honoured up to 60 s, and -v says so" {
	pending_state
	emu_fault "{\"method\":\"GET\",\"path\":\"/v1/messages/batches/$bid\",\"headers\":{\"retry-after\":\"99999999\"}}"
	"$CA_ROOT/ca-batch" -v --poll 0.1 <state >out 2>err &
	pid=$!
	for _ in $(seq 100); do grep -q 'retry-after' err && break; sleep 0.1; done
	kill -TERM "$pid"
	wait "$pid" && rc=0 || rc=$?
	[ "$rc" -eq 143 ]
	[ "$(grep retry-after err)" = "ca-batch: $bid: retry-after 99999999; polling again in 60 s instead" ]
	[ "$(shape out)" = "request q1 " ]
}

@test "a results line over 64 MiB fails its own request only" {
	{ req q1 one; req q2 'big
ca-emu-batch-pad: 67108864'; req q3 three; } >in
	run --separate-stderr ca-batch --poll 0.1 <in
	[ "$status" -eq 1 ]
	echo "$output" >out
	[ "$(shape out | tr '\n' '|')" = "request q1 |response q1 1|request q2 |error q2 1|request q3 |response q3 1|" ]
	json_eq "$(jq -c 'select(.type == "error") | {t: .error.type, s: .status}' out)" '{"t":"invalid_response","s":null}'
	bid=$(jq -r 'select(.type == "batch") | .batch.id' out | head -n 1)
	[[ $stderr == *"ca-batch: $bid: a results line over 64 MiB, for q2; not read"* ]]
	refute grep -q transport_error out
}

@test "a poll answered about another batch is not taken for this one" {
	pending_state 2
	body=$(api "$EMU_URL/v1/messages/batches/$bid" |
		jq -c '.id = "msgbatch_other" | .processing_status = "ended"')
	emu_fault "{\"method\":\"GET\",\"path\":\"/v1/messages/batches/$bid\",\"status\":200,\"body\":$body}"
	run --separate-stderr ca-batch --no-wait <state
	[ "$status" -eq 75 ]
	[[ $stderr == *"ca-batch: $bid: the response is not this batch"* ]]
	echo "$output" >next
	refute grep -q msgbatch_other next
	[ "$(shape next | tr '\n' '|')" = "request q1 |request q2 |" ]
	[ "$(jq -r 'select(.type == "request") | .batch_id' next | sort -u)" = "$bid" ]
	# The next run collects each request once: a response, no error.
	emu_reset
	run ca-batch --poll 0.1 <next
	[ "$status" -eq 0 ]
	[ "$(shape <<<"$output" | tr '\n' '|')" = "request q1 |response q1 1|request q2 |response q2 1|" ]
}
