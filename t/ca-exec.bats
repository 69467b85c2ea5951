#!/usr/bin/env bats
# ca-exec against the local API emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# A request record whose prompt runs the given python code.
pyreq() {
	local code=$1 id=${2:-r1}
	ca-request -n -i "$id" "run this:
\`\`\`python
$code
\`\`\`"
}

msgs_posted() { emu_log /v1/messages | wc -l; }

@test "a request gets the request record back, then its response" {
	pyreq 'print(6*7)' >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(sed -n 1p <<<"$output")" = "$(cat req)" ]
	resp=$(sed -n 2p <<<"$output")
	[ "$(jq -r '.type + " " + .custom_id + " " + (.part|tostring)' <<<"$resp")" = "response r1 1" ]
	[[ "$(jq -r .request_id <<<"$resp")" == req_* ]]
	[ "$(jq -r '[.message.content[] | select(.type == "code_execution_tool_result") | .content.stdout] | join("")' <<<"$resp")" = 42 ]
	[ "$(jq -r .message.stop_reason <<<"$resp")" = end_turn ]
	[[ "$(jq -r .message.container.id <<<"$resp")" == container_* ]]
}

@test "the emulator received the params, the version and the key header" {
	pyreq 'print(1)' >req
	ca-exec <req >/dev/null
	log=$(emu_log /v1/messages)
	[ "$(jq -r .method <<<"$log")" = POST ]
	[ "$(jq -r '.headers["x-api-key"]' <<<"$log")" = '***' ]
	[ "$(jq -r '.headers["anthropic-version"]' <<<"$log")" = 2026-10-21 ]
	[ "$(jq -r '.headers | has("anthropic-beta")' <<<"$log")" = false ]
	[ "$(jq -r '.headers | has("authorization")' <<<"$log")" = false ]
	json_eq "$(jq -c .body <<<"$log")" "$(jq -c .params req)"
	# The key appears nowhere in what the emulator logged.
	refute grep -q "$CA_TEST_KEY" "$EMU_DIR/log.ndjson"
}

@test "betas go out comma-joined in one anthropic-beta header" {
	ca-request -n --betas legacy --beta mcp-client-2025-11-20 hi | ca-exec >/dev/null
	[ "$(emu_log /v1/messages | jq -r '.headers["anthropic-beta"]')" = "code-execution-2025-08-25,mcp-client-2025-11-20" ]
}

@test "--api-version and CA_API_VERSION set anthropic-version" {
	ca-request -n hi | ca-exec --api-version 2023-06-01 >/dev/null
	ca-request -n hi | CA_API_VERSION=2023-06-01 ca-exec >/dev/null
	[ "$(emu_log /v1/messages | jq -r '.headers["anthropic-version"]' | sort -u)" = 2023-06-01 ]
}

@test "ANTHROPIC_AUTH_TOKEN is sent as a bearer token when there is no key" {
	ca-request -n hi >req
	run env -u ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN=tok-not-real ca-exec <req
	[ "$status" -eq 0 ]
	log=$(emu_log /v1/messages)
	[ "$(jq -r '.headers.authorization' <<<"$log")" = '***' ]
	[ "$(jq -r '.headers | has("x-api-key")' <<<"$log")" = false ]
}

@test "an API error becomes an error record, exit 1, one line on stderr" {
	ca-request -n -i r1 hi | jq -c '.params.temperature = 0.5' >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p <<<"$output")" = "$(cat req)" ]
	err=$(sed -n 2p <<<"$output")
	[ "$(jq -r '[.type, .custom_id, .status, .attempts, .error.type] | join(" ")' <<<"$err")" = "error r1 400 1 invalid_request_error" ]
	[[ "$(jq -r .request_id <<<"$err")" == req_* ]]
	[[ "$stderr" == "ca-exec: r1: 400 invalid_request_error: temperature: Extra inputs are not permitted (request-id req_"*")" ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[ "$(msgs_posted)" -eq 1 ]
}

@test "records it does not own pass through byte for byte, in order" {
	{ echo '{"type":"x",  "a" : 1}'; ca-request -n hi; echo '{"type":"file","path":"p","file":{"id":"f"}}'; } >in
	run --separate-stderr ca-exec <in
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p <<<"$output")" = '{"type":"x",  "a" : 1}' ]
	[ "$(sed -n 2p <<<"$output" | jq -r .type)" = request ]
	[ "$(sed -n 3p <<<"$output" | jq -r .type)" = response ]
	[ "$(sed -n 4p <<<"$output")" = '{"type":"file","path":"p","file":{"id":"f"}}' ]
}

@test "bad lines are reported with their number; the rest still runs" {
	{ echo 'garbage'; ca-request -n hi; } >in
	run --separate-stderr ca-exec <in
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-exec: <stdin>:1: not a JSON object, skipped" ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "request response " ]
}

@test "a request record without params is an error record" {
	run --separate-stderr ca-exec <<<'{"type":"request","custom_id":"bad"}'
	[ "$status" -eq 1 ]
	[ "$(tail -1 <<<"$output" | jq -r '.error.type')" = invalid_record ]
	[ "$(msgs_posted)" -eq 0 ]
	# One bad record, one line, with the input and its line number.
	[ "$stderr" = "ca-exec: <stdin>:1: request record without params" ]
}

@test "a bad betas or a missing MCP token is one line on stderr, not two" {
	ca-request -n -i b1 hi | jq -c '.betas = "files-api-2025-04-14"' >in
	ca-request -n -i b2 hi |
	    jq -c '.params.mcp_servers = [{"type":"url","url":"https://mcp.example/","name":"docs"}] | .mcp_token_env = {"docs":"CA_NO_SUCH_TOKEN_VAR"}' >>in
	run --separate-stderr env -u CA_NO_SUCH_TOKEN_VAR ca-exec --mcp-token-env docs=CA_NO_SUCH_TOKEN_VAR <in
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$stderr")" -eq 2 ]
	[[ "$(sed -n 1p <<<"$stderr")" == "ca-exec: <stdin>:1: "* ]]
	[[ "$(sed -n 2p <<<"$stderr")" == "ca-exec: <stdin>:2: the MCP server docs needs a token in \$CA_NO_SUCH_TOKEN_VAR, which is not set" ]]
	[ "$(jq -r 'select(.type == "error") | .custom_id + " " + .error.type' <<<"$output" | tr '\n' ' ')" = "b1 invalid_record b2 mcp_token_missing " ]
}

@test "a request record whose betas is not an array is an error record, and nothing is sent" {
	ca-request -n -i b1 hi | jq -c '.betas = "files-api-2025-04-14"' >in
	ca-request -n -i b2 hi >>in
	run --separate-stderr ca-exec <in
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "error") | .custom_id + " " + .error.type' <<<"$output")" = "b1 invalid_record" ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output")" = b2 ]
	[ "$(msgs_posted)" -eq 1 ]
}

# --- retries -------------------------------------------------------------

@test "529 twice, then success: three attempts, exit 0, quiet stderr" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":2}]'
	ca-request -n hi >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(msgs_posted)" -eq 3 ]
	[ "$(tail -1 <<<"$output" | jq -r '.type + " " + (.attempts|tostring)')" = "response 3" ]
	# Default backoff: at least 0.375 s, then at least 0.75 s.
	run jq -s '[.[] | select(.path == "/v1/messages") | .t] | (.[1]-.[0] >= 0.37) and (.[2]-.[1] >= 0.74)' "$EMU_DIR/log.ndjson"
	[ "$output" = true ]
}

@test "529 every time: exit 75 and an error record with the attempts" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":5}]'
	ca-request -n -i r1 hi >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r '[.type, .status, .attempts, .error.type] | join(" ")')" = "error 529 3 overloaded_error" ]
	[[ "$stderr" == "ca-exec: r1: 529 overloaded_error: "*"(request-id req_"* ]]
	[ "$(msgs_posted)" -eq 3 ]
}

@test "-r sets the number of retries; -r 0 disables them" {
	emu_fault '[{"path":"/v1/messages","status":503,"times":9}]'
	ca-request -n hi >req
	run ca-exec -r 0 <req
	[ "$status" -eq 75 ]
	[ "$(msgs_posted)" -eq 1 ]
	emu_reset
	emu_fault '[{"path":"/v1/messages","status":503,"times":9}]'
	run ca-exec --retries 1 <req
	[ "$(msgs_posted)" -eq 2 ]
}

@test "retry-after-ms wins over retry-after" {
	emu_fault '[{"path":"/v1/messages","status":429,"times":1,"headers":{"retry-after-ms":"300","retry-after":"30"}}]'
	ca-request -n hi >req
	# Waiting 30 s would pass the 5 s budget and end in 75.
	run ca-exec --retry-max-time 5 <req
	[ "$status" -eq 0 ]
	run jq -s '[.[] | select(.path == "/v1/messages") | .t] | .[1]-.[0] >= 0.29' "$EMU_DIR/log.ndjson"
	[ "$output" = true ]
}

@test "retry-after in seconds is honoured" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":1,"headers":{"retry-after":"1"}}]'
	ca-request -n hi | ca-exec >/dev/null
	run jq -s '[.[] | select(.path == "/v1/messages") | .t] | .[1]-.[0] >= 0.99' "$EMU_DIR/log.ndjson"
	[ "$output" = true ]
}

@test "retry-after as an HTTP date is honoured" {
	# The retry must not come before the date, however long the first
	# attempt took (under valgrind, seconds).
	at=$(($(date +%s) + 3))
	when=$(date -u -d "@$at" '+%a, %d %b %Y %H:%M:%S GMT')
	emu_fault "[{\"path\":\"/v1/messages\",\"status\":429,\"times\":1,\"headers\":{\"retry-after\":\"$when\"}}]"
	ca-request -n hi | ca-exec >/dev/null
	run jq -s --argjson at "$at" '[.[] | select(.path == "/v1/messages") | .t] | (length == 2) and (.[1] >= $at - 0.05)' "$EMU_DIR/log.ndjson"
	[ "$output" = true ]
}

@test "a retry-after of 0 or garbage falls back to the default backoff" {
	for v in 0 abc -10; do
		emu_reset
		emu_fault "[{\"path\":\"/v1/messages\",\"status\":529,\"times\":1,\"headers\":{\"retry-after\":\"$v\"}}]"
		ca-request -n hi | ca-exec >/dev/null
		run jq -s '[.[] | select(.path == "/v1/messages") | .t] | (length == 2) and (.[1]-.[0] >= 0.37)' "$EMU_DIR/log.ndjson"
		[ "$output" = true ] || { echo "retry-after: $v"; return 1; }
	done
}

@test "a server asking for more than a minute ends the retries: exit 75" {
	emu_fault '[{"path":"/v1/messages","status":429,"times":3,"headers":{"retry-after":"3600"}}]'
	ca-request -n hi >req
	run --separate-stderr ca-exec -v <req
	[ "$status" -eq 75 ]
	[ "$(msgs_posted)" -eq 1 ]
	[[ "$stderr" == *"not retrying: the server asks to wait over a minute"* ]]
}

@test "--retry-max-time bounds the total wait" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":3,"headers":{"retry-after":"2"}}]'
	ca-request -n hi >req
	run --separate-stderr ca-exec -v --retry-max-time 1 <req
	[ "$status" -eq 75 ]
	[ "$(msgs_posted)" -eq 1 ]
	[[ "$stderr" == *"not retrying: retry budget of 1 s spent"* ]]
}

@test "x-should-retry: false stops a retry; true forces one" {
	emu_fault '[{"path":"/v1/messages","status":500,"times":1,"headers":{"x-should-retry":"false"}}]'
	ca-request -n hi >req
	run ca-exec <req
	[ "$status" -eq 75 ]
	[ "$(msgs_posted)" -eq 1 ]
	emu_reset
	emu_fault '[{"path":"/v1/messages","status":400,"times":1,"headers":{"x-should-retry":"true"}}]'
	run ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(msgs_posted)" -eq 2 ]
}

@test "408, 409, 500, 502, 504 are retried; 400, 401, 403, 404, 413 are not" {
	ca-request -n hi >req
	for s in 408 409 500 502 504; do
		emu_reset
		emu_fault "[{\"path\":\"/v1/messages\",\"status\":$s,\"times\":1}]"
		run ca-exec -r 1 <req
		[ "$status" -eq 0 ] || { echo "status $s"; return 1; }
		[ "$(msgs_posted)" -eq 2 ]
	done
	for s in 400 401 403 404 413; do
		emu_reset
		emu_fault "[{\"path\":\"/v1/messages\",\"status\":$s,\"times\":1}]"
		run ca-exec <req
		[ "$status" -eq 1 ] || { echo "status $s"; return 1; }
		[ "$(msgs_posted)" -eq 1 ]
	done
}

@test "a connection reset before the headers is retried" {
	emu_fault '[{"path":"/v1/messages","reset":"before_headers","times":1}]'
	ca-request -n hi >req
	run ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output" | jq -r '.type + " " + (.attempts|tostring)')" = "response 2" ]
}

@test "a reset after the headers is retried (nothing was written yet)" {
	emu_fault '[{"path":"/v1/messages","reset":"after_headers","times":1}]'
	ca-request -n hi >req
	run ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(msgs_posted)" -eq 2 ]
}

@test "a refused connection is temporary: exit 75 after the retries" {
	ca-request -n hi >req
	run --separate-stderr env ANTHROPIC_BASE_URL=http://127.0.0.1:9 ca-exec -r 1 <req
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r '.error.type + " " + (.status|tostring)')" = "connection_error null" ]
}

@test "-v says what is retried, why, after how long, with the request-id" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":1}]'
	ca-request -n -i r1 hi >req
	run --separate-stderr ca-exec -v <req
	[ "$status" -eq 0 ]
	[[ "$stderr" =~ ^ca-exec:\ r1:\ 529\ overloaded_error:\ .*\(request-id\ req_[A-Za-z0-9]+\)\;\ retry\ 1\ of\ 2\ in\ 0\.[0-9]+\ s$ ]]
}

@test "--timeout gives up a slow attempt and retries it" {
	# The first answer would come long after the timeout; the retry has
	# the whole timeout for itself, a loaded machine included.
	emu_fault '[{"path":"/v1/messages","latency_ms":60000,"times":1}]'
	ca-request -n hi >req
	run ca-exec -t 3 <req
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output" | jq -r .attempts)" = 2 ]
}

@test "--connect-timeout is accepted" {
	ca-request -n hi >req
	run ca-exec --connect-timeout 5 <req
	[ "$status" -eq 0 ]
}

# --- streaming -----------------------------------------------------------

strip_ids() {
	jq -S -c 'walk(if type == "object" then del(.id, .tool_use_id, .file_id, .expires_at, .request_id) else . end) | del(.container)'
}

@test "--stream writes events as they come, then the same response" {
	pyreq 'print("hello")' >req
	run --separate-stderr ca-exec --stream <req
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | jq -r .body.stream)" = true ]
	[ "$(sed -n 2p <<<"$output" | jq -r '.type + " " + .event.type')" = "event message_start" ]
	[ "$(jq -r 'select(.type == "event") | .event.type' <<<"$output" | tail -1)" = message_stop ]
	[ "$(jq -r 'select(.type == "event") | .event.type' <<<"$output" | grep -c ping)" -eq 0 ]
	[ "$(jq -r 'select(.type == "event") | .event.type' <<<"$output" | grep -c message_start)" -eq 1 ]
	streamed=$(tail -1 <<<"$output")
	[ "$(jq -r .type <<<"$streamed")" = response ]
	plain=$(ca-exec <req | tail -1)
	[ "$(jq -c .message <<<"$streamed" | strip_ids)" = "$(jq -c .message <<<"$plain" | strip_ids)" ]
	[[ "$(jq -r .message.container.id <<<"$streamed")" == container_* ]]
}

@test "a mid-stream error event ends in an error record, nothing twice" {
	emu_fault '[{"path":"/v1/messages","stream":"error_after","after":3,"times":1}]'
	pyreq 'print(1)' >req
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r '.type + " " + .error.type')" = "error overloaded_error" ]
	[ "$(jq -r 'select(.type == "event") | .event.type' <<<"$output" | grep -c message_start)" -eq 1 ]
	[ "$(msgs_posted)" -eq 1 ]
}

@test "a stream cut before message_stop is a temporary error" {
	emu_fault '[{"path":"/v1/messages","stream":"cut_after","after":4,"times":1}]'
	pyreq 'print(1)' >req
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r '.error.type + ": " + .error.message')" = "incomplete_stream: stream ended before message_stop" ]
	[ "$(msgs_posted)" -eq 1 ]
}

@test "a stream reset mid-way is an error, not retried after output" {
	emu_fault '[{"path":"/v1/messages","stream":"reset_after","after":3,"times":1}]'
	pyreq 'print(1)' >req
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r '.type + " " + .error.type')" = "error connection_error" ]
	[ "$(msgs_posted)" -eq 1 ]
}

@test "a silent stream hits the idle timeout" {
	emu_fault '[{"path":"/v1/messages","stream":"stall_after","after":2,"stall_ms":4000,"times":1}]'
	pyreq 'print(1)' >req
	run --separate-stderr ca-exec -s --idle-timeout 1 <req
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r '.error.type')" = timeout_error ]
	[ "$(jq -r 'select(.type == "event") | .event.type' <<<"$output" | wc -l)" -eq 2 ]
}

# --- pause_turn ----------------------------------------------------------

@test "pause_turn is continued in the same container until the turn ends" {
	emu_config '{"pause_each_step":true}'
	ca-request -n 'two steps:
```python
print("one")
```
```python
print("two")
```' >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | "\(.part) \(.message.stop_reason)"' <<<"$output" | tr '\n' ,)" = "1 pause_turn,2 pause_turn,3 end_turn," ]
	[ "$(msgs_posted)" -eq 3 ]
	cid=$(jq -r 'select(.type == "response" and .part == 1) | .message.container.id' <<<"$output")
	second=$(emu_log /v1/messages | sed -n 2p)
	[ "$(jq -r .body.container <<<"$second")" = "$cid" ]
	[ "$(jq -r '.body.messages[-1].role' <<<"$second")" = assistant ]
	json_eq "$(jq -c '.body.messages[-1].content' <<<"$second")" \
		"$(jq -c 'select(.type == "response" and .part == 1) | .message.content' <<<"$output")"
	# The third request carries the whole turn so far in one message.
	third=$(emu_log /v1/messages | sed -n 3p)
	[ "$(jq '.body.messages | length' <<<"$third")" -eq 2 ]
	json_eq "$(jq -c '.body.messages[-1].content' <<<"$third")" \
		"$(jq -c -s '[.[] | select(.type == "response" and .part < 3) | .message.content[]]' <<<"$output")"
}

@test "--max-continues caps the continuations" {
	emu_config '{"pause_each_step":true}'
	ca-request -n -i r1 'steps:
```python
print(1)
```
```python
print(2)
```' >req
	run --separate-stderr ca-exec --max-continues 1 <req
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .part' <<<"$output" | tr '\n' ,)" = "1,2," ]
	[ "$stderr" = "ca-exec: r1: still paused after 1 continuations; giving up" ]
}

@test "pause_turn with skills: the continuation sends the skills again with the container id" {
	emu_config '{"pause_each_step":true}'
	ca-request -n --skill xlsx 'one step:
```python
print("one")
```' >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(msgs_posted)" -eq 2 ]
	cid=$(jq -r 'select(.type == "response" and .part == 1) | .message.container.id' <<<"$output")
	json_eq "$(emu_log /v1/messages | sed -n 2p | jq -c .body.container)" \
		"{\"id\":\"$cid\",\"skills\":[{\"type\":\"anthropic\",\"skill_id\":\"xlsx\",\"version\":\"latest\"}]}"
}

@test "pause_turn while streaming continues too" {
	emu_config '{"pause_each_step":true}'
	pyreq 'print(5)' >req
	run ca-exec -s <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | "\(.part) \(.message.stop_reason)"' <<<"$output" | tr '\n' ,)" = "1 pause_turn,2 end_turn," ]
	[ "$(jq -r 'select(.type == "event" and .event.type == "message_start") | .part' <<<"$output" | tr '\n' ,)" = "1,2," ]
}

# --- concurrency ---------------------------------------------------------

@test "-j runs requests side by side; output keeps input order" {
	{ pyreq 'import time; time.sleep(1.5)' q1; for i in 2 3 4; do ca-request -n -i "q$i" "hi $i"; done; } >req
	run --separate-stderr ca-exec -j 4 <req
	[ "$status" -eq 0 ]
	[ "$(jq -r '.type + ":" + .custom_id' <<<"$output" | tr '\n' ' ')" = "request:q1 response:q1 request:q2 response:q2 request:q3 response:q3 request:q4 response:q4 " ]
	# The emulator logs a request when it answers it: the slow first
	# one was answered last, so the others ran while it was in flight.
	first() { emu_log /v1/messages | jq -r '.body.messages[0].content[0].text' | head -c 3; }
	last() { emu_log /v1/messages | tail -1 | jq -r '.body.messages[0].content[0].text' | head -c 3; }
	[ "$(last)" = run ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 4 ]
	emu_reset
	ca-exec -j 1 <req >/dev/null
	[ "$(first)" = run ]
}

@test "-u writes in completion order" {
	{ pyreq 'import time; time.sleep(1.5)' q1; for i in 2 3; do ca-request -n -i "q$i" "hi $i"; done; } >req
	run ca-exec -j 3 -u <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | tail -1)" = q1 ]
	[ "$(jq -s 'length' <<<"$output")" -eq 6 ]
}

@test "a 429 holds back the other requests too" {
	emu_fault '[{"path":"/v1/messages","status":429,"times":1,"headers":{"retry-after":"1"}}]'
	for i in 1 2 3; do ca-request -n -i "q$i" "hi $i"; done >req
	run ca-exec -j 1 <req
	[ "$status" -eq 0 ]
	run jq -s '[.[] | select(.path == "/v1/messages") | .t] | .[1] - .[0] >= 0.99' "$EMU_DIR/log.ndjson"
	[ "$output" = true ]
}

@test "--help lists every flag" {
	run ca-exec --help
	[ "$status" -eq 0 ]
	for f in -j -r -s -t -u -v --api-version --connect-timeout --idle-timeout --max-continues --retry-max-time --stream --jobs --retries --unordered --timeout; do
		[[ "$output" == *"$f"* ]] || { echo "missing $f"; return 1; }
	done
}

@test "a container that expired on the server: the turn goes again without it (t/expire.bats has more)" {
	pyreq 'print(1)' >req
	cid=$(ca-exec <req | jq -r 'select(.type == "response") | .message.container.id')
	curl -sf -X POST -H 'content-type: application/json' -d '{"expired":true}' \
		"$EMU_URL/_emu/containers/$cid" >/dev/null
	ca-request -n -c "$cid" 'again' >req2
	run --separate-stderr ca-exec <req2
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | jq -c '[.status, .body.container]' | tail -2)" = "[400,\"$cid\"]
[200,null]" ]
	[ "$(tail -1 <<<"$output" | jq -r .container_lost)" = "$cid" ]
	[[ "$stderr" == *"container $cid is gone"* ]]
}

@test "a reader that goes away early stops ca-exec quietly" {
	pyreq 'print(1)' >req
	run --separate-stderr bash -c 'ca-exec --stream <req | head -1'
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output")" = request ]
	[ -z "$stderr" ]
}

@test "--idle-timeout is for streams: a plain request may be silent longer" {
	emu_fault '[{"path":"/v1/messages","latency_ms":2500,"times":1}]'
	ca-request -n hi >req
	run --separate-stderr ca-exec --idle-timeout 1 <req
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output" | jq -r '.type + " " + (.attempts|tostring)')" = "response 1" ]
}

@test "--no-pace: a spent request rate limit holds new requests until it resets" {
	for i in 1 2; do ca-request -n -i "q$i" "hi $i"; done >req
	# The reset is set last: under valgrind building the requests
	# takes seconds of its own.
	at=$(($(date +%s) + 3))
	reset=$(date -u -d "@$at" '+%Y-%m-%dT%H:%M:%SZ')
	emu_fault "[{\"path\":\"/v1/messages\",\"times\":1,\"headers\":{\"anthropic-ratelimit-requests-remaining\":\"0\",\"anthropic-ratelimit-requests-reset\":\"$reset\"}}]"
	run --separate-stderr ca-exec -v --no-pace <req
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"q1: request rate limit reached; holding new requests for "* ]]
	# q2 did not arrive before the reset, however long q1 took.
	run jq -s --argjson at "$at" '[.[] | select(.path == "/v1/messages")] | (length == 2) and (.[0].fault != null) and (.[1].t >= $at - 0.05)' "$EMU_DIR/log.ndjson"
	[ "$output" = true ]
}

@test "a fault after message_stop loses nothing: the response stands" {
	# A prompt without code streams n events, message_stop last: the
	# reset comes right after it.
	ca-request -n 'just talk' >req
	n=$(ca-exec -s <req | jq -s '[.[] | select(.type == "event")] | length')
	[ "$(ca-exec -s <req | jq -rs '[.[] | select(.type == "event")][-1].event.type')" = message_stop ]
	emu_fault "[{\"path\":\"/v1/messages\",\"stream\":\"reset_after\",\"after\":$n,\"times\":1}]"
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output" | jq -r '.type + " " + .message.stop_reason')" = "response end_turn" ]
}

@test "a NUL in the code's output reaches the records whole" {
	pyreq 'import sys; sys.stdout.write("before\0after\n")' >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output" | jq -r '.message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' | od -c | head -1)" = "$(printf 'before\0after\n\n' | od -c | head -1)" ]
	run --separate-stderr ca-exec -s <req
	[ "$(jq -r 'select(.type == "event") | .event.content_block.content.stdout // empty' <<<"$output" | od -c | head -1)" = "$(printf 'before\0after\n\n' | od -c | head -1)" ]
}

@test "a writer that stalls mid-line does not stall the transfers" {
	pyreq 'print(1)' >req
	# The writer finishes its line only once the response is out: a
	# ca-exec that waited for the whole line would never write it.
	run --separate-stderr timeout 60 bash -c '{ cat req; printf "{\"type\":\"note\",";
		until grep -q "\"type\":\"response\"" out 2>/dev/null; do sleep 0.1; done
		echo "\"x\":1}"; } | ca-exec -s >out'
	[ "$status" -eq 0 ]
	[ "$(tail -1 out)" = '{"type":"note","x":1}' ]
}

@test "plain http to loopback never goes through a proxy" {
	ca-request -n hi >req
	# A proxy on a closed port: using it would fail the request.
	run --separate-stderr env http_proxy=http://127.0.0.1:9 \
		HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 ca-exec -r 0 <req
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output" | jq -r .type)" = response ]
}

@test "the scheme of the base URL is case-blind" {
	ca-request -n hi >req
	run --separate-stderr env ANTHROPIC_BASE_URL="HTTP://${EMU_URL#http://}" ca-exec <req
	[ "$status" -eq 0 ]
}

# Run ca-exec with standard error on a terminal (script(1) makes a pty);
# what the terminal got goes to tty.log, the records to out.
on_tty() {
	command -v script >/dev/null || skip "script(1) is not installed"
	script -qec "ca-exec $* <reqs >out" /dev/null </dev/null >tty.log
}

@test "a terminal gets one progress line for more than one request, cleared at the end" {
	for i in 1 2 3; do pyreq "print($i)" "q$i"; done >reqs
	emu_fault '[{"path":"/v1/messages","status":400,"times":1}]'
	run on_tty -j 2
	[ "$status" -eq 1 ]
	[ "$(jq -r .type out | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = "error=1 request=3 response=2 " ]
	# Redrawn in place with \r, never a new line of its own; the last
	# state counts all three, the failure too, and the line is erased.
	tr '\r' '\n' <tty.log >lines
	grep -qx $'ca-exec: 3/3 done, 1 failed, 0 retrying\e\\[K' lines
	[ "$(tail -c 4 tty.log | od -An -c | tr -d ' ')" = '\r033[K' ]
	# The failure's message stands on a line of its own: the progress
	# line is erased first.
	grep -qE $'^\e\\[Kca-exec: q[12]: 400 invalid_request_error' lines
	# A retry shows while it waits.
	emu_reset
	emu_fault '[{"path":"/v1/messages","status":529,"times":1,"headers":{"retry-after":"1"}}]'
	run on_tty -j 2
	[ "$status" -eq 0 ]
	tr '\r' '\n' <tty.log | grep -q ', 1 retrying'
}

@test "no progress line for one request, nor when stderr is not a terminal" {
	pyreq 'print(1)' q1 >reqs
	run on_tty
	[ "$status" -eq 0 ]
	[ ! -s tty.log ]
	for i in 2 3; do pyreq "print($i)" "q$i"; done >>reqs
	run --separate-stderr ca-exec -j 2 <reqs
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "an error record passing through sets the exit status" {
	pyreq 'print(1)' q1 >reqs
	echo '{"type":"error","custom_id":"q0","status":529,"error":{"type":"overloaded_error","message":"Overloaded"}}' >>reqs
	run --separate-stderr ca-exec <reqs
	[ "$status" -eq 75 ]
	[ -z "$stderr" ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "request response error " ]
	echo '{"type":"error","path":"x.csv","status":null,"error":{"type":"file_error","message":"No such file or directory"}}' >>reqs
	run --separate-stderr ca-exec <reqs
	[ "$status" -eq 1 ]
}
