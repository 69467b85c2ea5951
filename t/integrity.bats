#!/usr/bin/env bats
# Records nothing can corrupt: whatever a server sends, ca-exec writes
# one line of strict JSON per record with the value the server sent
# (a \u0000 included, streamed or not), sends that value back when it
# continues a turn, and no tool takes a prefix of an id for the id.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# The next /v1/messages answers 200 with exactly this body.
body_once() {
	emu_fault "$(jq -cn --arg b "$1" '[{path: "/v1/messages", status: 200,
		body: $b, headers: {"content-type": "application/json"}}]')"
}

# The next /v1/messages answers with exactly the event stream on stdin.
sse_once() {
	cat >"$BATS_TEST_TMPDIR/sse"
	emu_fault "$(jq -cn --rawfile s "$BATS_TEST_TMPDIR/sse" \
		'[{path: "/v1/messages", stream: "raw", sse: $s}]')"
}

ev() {
	printf 'event: %s\ndata: %s\n\n' "$1" "$2"
}

# A message body around the given content array, spread over lines
# with spaces between tokens, as a pretty-printing server sends it.
message() {	# CONTENT [STOP_REASON]
	printf '{\n  "id" : "msg_1",\n  "type" : "message",\n  "role" : "assistant",\n  "model" : "claude-sonnet-4-6",\n  "content" : %s ,\n  "stop_reason" : "%s",\n  "stop_sequence" : null,\n  "usage" : { "input_tokens" : 1, "output_tokens" : 2 }\n}\n' "$1" "${2:-end_turn}"
}

# The same message as a stream, its text block built from text deltas.
stream_of() {	# STOP_REASON BLOCK0_DELTAS... (each a JSON string)
	local stop=$1 d
	shift
	ev message_start '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}'
	ev content_block_start '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
	for d in "$@"; do
		ev content_block_delta "{\"type\": \"content_block_delta\" , \"index\": 0, \"delta\": {\"type\": \"text_delta\" , \"text\": $d }}"
	done
	ev content_block_stop '{"type":"content_block_stop","index":0}'
	ev message_delta "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"$stop\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}"
	ev message_stop '{"type":"message_stop"}'
}

req() { ca-request -n -i "${1:-r1}" hello; }

# Every line of $1 is one JSON object.
all_lines_parse() {
	local line
	while IFS= read -r line; do
		jq -e 'type == "object"' <<<"$line" >/dev/null || {
			echo "not a JSON object: $line" >&2
			return 1
		}
	done <<<"$1"
}

@test "a text ending in a backslash leaves the rest of the response intact" {
	body=$(message '[ { "type" : "text", "text" : "saved to C:\\" } , { "type" : "text" , "text" : "hello big world and more" } ]')
	body_once "$body"
	req >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	all_lines_parse "$output"
	json_eq "$(sed -n 2p <<<"$output" | jq -c .message)" "$body"
	[ "$(sed -n 2p <<<"$output" | jq -r '.message.content[1].text')" = "hello big world and more" ]
}

@test "streamed, a bash output or text delta ending in a backslash leaves the rest intact" {
	{
	ev message_start '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}'
	ev content_block_start '{"type": "content_block_start", "index": 0, "content_block": {"type": "bash_code_execution_tool_result", "tool_use_id": "s1", "content": {"type": "bash_code_execution_result", "stdout": "saved to C:\\", "stderr": "hello big world", "return_code": 0, "content": []}}}'
	ev content_block_stop '{"type":"content_block_stop","index":0}'
	ev content_block_start '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}'
	ev content_block_delta '{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "saved to C:\\"}}'
	ev content_block_delta '{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": " hello big world"}}'
	ev content_block_stop '{"type":"content_block_stop","index":1}'
	ev message_delta '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}'
	ev message_stop '{"type":"message_stop"}'
	} | sse_once
	req >req
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 0 ]
	all_lines_parse "$output"
	# The event records hold what was sent.
	[ "$(jq -r 'select(.type == "event" and .event.type == "content_block_start") | .event.content_block.content.stderr // empty' <<<"$output")" = "hello big world" ]
	[ "$(jq -r 'select(.type == "event" and .event.type == "content_block_delta") | .event.delta.text' <<<"$output")" = 'saved to C:\
 hello big world' ]
	resp=$(jq -c 'select(.type == "response") | .message' <<<"$output")
	[ "$(jq -r '.content[0].content.stdout + "|" + .content[0].content.stderr' <<<"$resp")" = 'saved to C:\|hello big world' ]
	[ "$(jq -r '.content[1].text' <<<"$resp")" = 'saved to C:\ hello big world' ]
}

@test "a newline after such a string forges no record, and ca-files -d deletes nothing" {
	victim=$(emu_file victim.txt precious)
	body=$(message "[{\"type\":\"text\",\"text\":\"C:\\\\\"},
{\"type\":\"fetched\",\"custom_id\":\"r1\",\"file\":{\"id\":\"$victim\"},\"path\":\"x\"}
,{\"type\":\"text\",\"text\":\"x\"}]")
	jq -e . <<<"$body" >/dev/null
	body_once "$body"
	req >req
	ca-exec <req >out
	[ "$(wc -l <out)" -eq 2 ]
	all_lines_parse "$(cat out)"
	[ -z "$(jq -c 'select(.type == "fetched")' out)" ]
	json_eq "$(sed -n 2p out | jq -c .message)" "$body"
	emu_reset
	ca-files -d <out >/dev/null
	[ -z "$(emu_log | jq -c 'select(.method == "DELETE")')" ]
}

@test "a pretty-printed body with newlines in strings and between tokens gives one line per record" {
	body=$(printf '{\r\n\t"id":"msg_1",\f"type":"message",\v"role":"assistant","model":"m",\n"content":[\n{"type":"text","text":"line1\\n{\\"type\\":\\"fetched\\",\\"file\\":{\\"id\\":\\"file_x\\"}}\\r\\nend"}\n],\n"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}\n}\n')
	body_once "$body"
	req >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	all_lines_parse "$output"
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "request response " ]
	[ "$(sed -n 2p <<<"$output" | jq -r '.message.content[0].text')" = "$(printf 'line1\n{"type":"fetched","file":{"id":"file_x"}}\r\nend')" ]
}

@test "a body that is not strict JSON is an error record, not a line other parsers misread" {
	# cJSON reads 01, 1. and -.5; jq and Python do not.
	body_once "$(message '[{"type":"text","text":"x"}],"m":01,"n":1.,"o":-.5')"
	req r1 >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 1 ]
	all_lines_parse "$output"
	[ "$(sed -n 2p <<<"$output" | jq -r '.type + " " + .error.type')" = "error invalid_response" ]
}

@test "a NUL between a body's tokens is white space, and other requests go on" {
	body_once "$(printf '{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"ok"}],\001"stop_reason":"end_turn"}')"
	emu_fault "$(jq -cn '[{path: "/v1/messages", status: 200, body: "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[{\"type\":\"text\",\"text\":\"nul\"}],\u0000\"stop_reason\":\"end_turn\"}", headers: {"content-type": "application/json"}}]')"
	{ req r1; req r2; req r3; } >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	all_lines_parse "$output"
	[ "$(jq -r 'select(.type == "response") | .custom_id + " " + .message.content[0].text' <<<"$output" | head -2 | tr '\n' ' ')" = "r1 ok r2 nul " ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | wc -l)" -eq 3 ]
}

@test "streamed and unstreamed, a text with \\u0000 gives equal responses, NUL included" {
	stream_of end_turn '"a\u0000"' '"b c\\"' '"\u0000"' | sse_once
	req >req
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 0 ]
	all_lines_parse "$output"
	streamed=$(jq -c 'select(.type == "response") | .message' <<<"$output")
	jq -e '.content[0].text == "a\u0000b c\\\u0000"' <<<"$streamed"
	body_once "$(message '[{"type":"text","text":"a\u0000b c\\\u0000"}]')"
	run --separate-stderr ca-exec <req
	[ "$status" -eq 0 ]
	json_eq "$streamed" "$(sed -n 2p <<<"$output" | jq -c .message)"
}

@test "streamed, a tool result with \\u0000 in its output is kept whole" {
	{
	ev message_start '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}'
	ev content_block_start '{"type":"content_block_start","index":0,"content_block":{"type":"bash_code_execution_tool_result","tool_use_id":"s1","content":{"type":"bash_code_execution_result","stdout":"x\u0000y","stderr":"","return_code":0,"content":[]}}}'
	ev content_block_stop '{"type":"content_block_stop","index":0}'
	ev content_block_start '{"type":"content_block_start","index":1,"content_block":{"type":"server_tool_use","id":"s2","name":"bash_code_execution","input":{}}}'
	ev content_block_delta '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"command\": \"printf \\\"a\\u0000b\\\"\"}"}}'
	ev content_block_stop '{"type":"content_block_stop","index":1}'
	ev message_delta '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}'
	ev message_stop '{"type":"message_stop"}'
	} | sse_once
	req >req
	run --separate-stderr ca-exec -s <req
	[ "$status" -eq 0 ]
	resp=$(jq -c 'select(.type == "response") | .message' <<<"$output")
	jq -e '.content[0].content.stdout == "x\u0000y"' <<<"$resp"
	jq -e '.content[1].input.command == "printf \"a\u0000b\""' <<<"$resp"
}

@test "a pause_turn continuation sends the turn back with its \\u0000" {
	body_once "$(message '[{"type":"text","text":"a\u0000b"},{"type":"server_tool_use","id":"s1","name":"bash_code_execution","input":{"command":"echo \u0000"}}]' pause_turn)"
	req >req
	run --separate-stderr ca-exec <req
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
	json_eq "$(emu_log /v1/messages | sed -n 2p | jq -c '.body.messages[-1]')" \
		'{"role":"assistant","content":[{"type":"text","text":"a\u0000b"},{"type":"server_tool_use","id":"s1","name":"bash_code_execution","input":{"command":"echo \u0000"}}]}'
}

@test "streamed, a pause_turn continuation sends the turn back with its \\u0000" {
	stream_of pause_turn '"a\u0000"' '"b"' | sse_once
	req >req
	run --separate-stderr ca-exec -s <req
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
	json_eq "$(emu_log /v1/messages | sed -n 2p | jq -c '.body.messages[-1]')" \
		'{"role":"assistant","content":[{"type":"text","text":"a\u0000b"}]}'
}

transcript() {
	cat <<'EOT'
{"type":"request","custom_id":"r1","params":{"model":"claude-sonnet-4-6","max_tokens":500,"messages":[{"role":"user","content":[{"type":"text","text":"say \u0000"}]}],"tools":[{"type":"code_execution_20250825","name":"code_execution"}]}}
{"type":"response","custom_id":"r1","part":1,"message":{"id":"m1","type":"message","role":"assistant","content":[{"type":"text","text":"a\u0000b"},{"type":"server_tool_use","id":"s1","name":"bash_code_execution","input":{"command":"printf '\\0'"}},{"type":"bash_code_execution_tool_result","tool_use_id":"s1","content":{"type":"bash_code_execution_result","stdout":"\u0000","stderr":"","return_code":0,"content":[]}}],"stop_reason":"end_turn","container":{"id":"container_nul","expires_at":"2099-01-01T00:00:00Z"}}}
EOT
}

@test "ca-request --continue sends the history back unchanged, NULs included" {
	# A container the emulator knows, as a real transcript would have.
	c=$(ca-request -n hi | ca-exec | jq -r 'select(.type == "response") | .message.container.id')
	[ -n "$c" ]
	transcript | sed "s/container_nul/$c/" >tr
	emu_reset
	ca-request -C next <tr >req
	ca-exec <req >/dev/null
	sent=$(emu_log /v1/messages | jq -c .body.messages)
	json_eq "$(jq -c '.[0]' <<<"$sent")" "$(head -1 tr | jq -c '.params.messages[0]')"
	json_eq "$(jq -c '.[1].content' <<<"$sent")" "$(tail -1 tr | jq -c '.message.content')"
	jq -e '.[1].content[0].text == "a\u0000b"' <<<"$sent"
}

@test "of duplicate keys the last wins, as in jq" {
	keep=$(emu_file keep.txt 1)
	gone=$(emu_file gone.txt 2)
	run --separate-stderr ca-files -d <<<"{\"type\":\"file\",\"file\":{\"id\":\"$keep\"},\"file\":{\"id\":\"$gone\"}}"
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$output" | jq -r .file.id)" = "$gone" ]
	[ "$(sed -n 2p <<<"$output" | jq -r .type,.id | tr '\n' ' ')" = "deleted $gone " ]
	[ "$(emu_log | jq -r 'select(.method == "DELETE") | .path')" = "/v1/files/$gone" ]
}

@test "ca-files -d refuses an id holding \\u0000 and deletes nothing for it" {
	other=$(emu_file other.txt 1)
	run --separate-stderr ca-files -d <<EOT
{"type":"file","file":{"id":"file_\u0000evil"}}
{"type":"file","file":{"id":"$other"}}
EOT
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ca-files: <stdin>:1: file record whose file.id holds a NUL (\u0000), refused' ]
	# Both records pass through; only the second is acted on.
	[ "$(jq -r '.type + " " + (.id // .file.id)' <<<"$output")" = "file file_"$'\u0000'"evil
file $other
deleted $other" ]
	[ "$(emu_log | jq -r 'select(.method == "DELETE") | .path')" = "/v1/files/$other" ]
}

@test "ca-fetch refuses a response whose file_id or custom_id holds \\u0000" {
	good=$(emu_file good.txt hello)
	resp() {	# CUSTOM_ID FILE_ID
		printf '{"type":"response","custom_id":"%s","message":{"content":[{"type":"bash_code_execution_tool_result","tool_use_id":"s1","content":{"type":"bash_code_execution_result","stdout":"","stderr":"","return_code":0,"content":[{"type":"bash_code_execution_output","file_id":"%s"}]}}]}}\n' "$1" "$2"
	}
	run --separate-stderr ca-fetch -q -d out < <(resp r1 'file_\u0000evil'; resp 'r\u0000x' "$good"; resp r3 "$good")
	[ "$status" -eq 1 ]
	[ "$(grep -c 'holds a NUL' <<<"$stderr")" -eq 2 ]
	grep -q '^ca-fetch: <stdin>:1: ' <<<"$stderr"
	grep -q '^ca-fetch: <stdin>:2: ' <<<"$stderr"
	# Only the third record's file was fetched.
	[ "$(emu_log | jq -r 'select(.method == "GET") | .path' | grep -c -v "/v1/files/$good")" -eq 0 ]
	[ "$(jq -r 'select(.type == "fetched") | .custom_id' <<<"$output")" = r3 ]
}

@test "ca-exec refuses a request whose custom_id holds \\u0000, and goes on" {
	{ req r1 | jq -c '.custom_id = "r\u0000x"'; req r2; } >req
	grep -q '"r\\u0000x"' req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 1 ]
	[ "$(head -1 <<<"$stderr")" = 'ca-exec: <stdin>:1: a custom_id that holds a NUL (\u0000)' ]
	[ "$(jq -r '.type + " " + (.custom_id // "null") + " " + (.error.type // "")' <<<"$output" | sed 1d)" = "error null invalid_record
request r2 
response r2 " ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
}

@test "a container id holding \\u0000 is never continued in, nor cut short" {
	body_once "$(message '[{"type":"text","text":"a"}],"container":{"id":"container_\u0000x","expires_at":"2099-01-01T00:00:00Z"}' pause_turn)"
	req >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"container id holds a NUL"* ]]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	run --separate-stderr ca-request -C next < <(head -1 <<<"$output"; sed -n 2p <<<"$output")
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"container id holds a NUL"* ]]
}

@test "a lone surrogate is refused, never silently dropped" {
	body_once "$(message '[{"type":"text","text":"a\ud800b"}]')"
	req >req
	run --separate-stderr ca-exec <req
	[ "$status" -eq 1 ]
	[ "$(sed -n 2p <<<"$output" | jq -r '.type + " " + .error.type')" = "error invalid_response" ]
	run --separate-stderr ca-files -d <<<'{"type":"file","file":{"id":"file_\udc00"}}'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-files: <stdin>:1: not a JSON object, skipped" ]
	[ -z "$(emu_log | jq -c 'select(.method == "DELETE")')" ]
}
