#!/usr/bin/env bats
# Tests of the local API emulator itself (emu/ca-emu.py), with curl and jq.
# One emulator serves the whole file; each test starts from POST /_emu/reset
# (faults and runtime config cleared, log truncated; files and containers stay).

load test_helper

KEY=$CA_TEST_KEY

setup_file() {
	local py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	export EMU_PY=$py
	export EMU_SCRIPT="$BATS_TEST_DIRNAME/../emu/ca-emu.py"
	export EMU_DIR="$BATS_FILE_TMPDIR/emu"
	# shellcheck source=tools/emu.sh
	. "$BATS_TEST_DIRNAME/../tools/emu.sh"
	emu_launch "$BATS_TEST_DIRNAME/.." "$EMU_DIR" "$KEY" || return 1
	export EMU="$EMU_URL"
	export EMU_LOG="$EMU_DIR/log.ndjson"
}

teardown_file() {
	local pid i
	pid=$(cat "$EMU_DIR/pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

setup() {
	curl -sS -f -X POST "$EMU/_emu/reset" >/dev/null
	T=$BATS_TEST_TMPDIR
}

# call METHOD PATH [curl args...]: sets STATUS, BODY; headers in $T/hdr.
call() {
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -sS -D "$T/hdr" -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$EMU$p")
	BODY=$(cat "$T/body")
}
# apicall METHOD PATH [curl args...]: call with the key and API version
# of test_helper's api.
apicall() {
	local m=$1 p=$2
	shift 2
	call "$m" "$p" "${CA_API_HEADERS[@]}" "$@"
}
# post_msg JSON [curl args...]: POST /v1/messages.
post_msg() {
	local j=$1
	shift
	apicall POST /v1/messages -H 'content-type: application/json' --data-binary "$j" "$@"
}
# mkreq TEXT [TOOLTYPE|""]: a Messages request; the default tool is the newest.
mkreq() {
	jq -nc --arg t "$1" --arg v "${2-code_execution_20260521}" \
		'{model: "claude-opus-5-5", max_tokens: 1024,
		  messages: [{role: "user", content: $t}]}
		 + (if $v == "" then {} else {tools: [{type: $v, name: "code_execution"}]} end)'
}
fault() { curl -sS -f -X POST "$EMU/_emu/faults" --data-binary "$1" >/dev/null; }
ctl() { curl -sS -f -X POST "$EMU/_emu/$1" --data-binary "$2"; }
hdr() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d: -f2- | tr -d ' \r'; }
# The jq program that assembles an SSE transcript (data lines) into a Message.
ASSEMBLE='reduce .[] as $e ({content: [], pj: []};
	if $e.type == "message_start" then .msg = $e.message
	elif $e.type == "content_block_start" then .content[$e.index] = $e.content_block | .pj[$e.index] = ""
	elif $e.type == "content_block_delta" then
		(if $e.delta.type == "text_delta" then .content[$e.index].text += $e.delta.text
		 else .pj[$e.index] += $e.delta.partial_json end)
	elif $e.type == "content_block_stop" then
		(if .content[$e.index].type == "server_tool_use"
		 then .content[$e.index].input = (.pj[$e.index] | fromjson) else . end)
	elif $e.type == "message_delta" then
		.msg.stop_reason = $e.delta.stop_reason | .msg.container = $e.delta.container
		| .msg.usage.output_tokens = $e.usage.output_tokens
		| .msg.usage.server_tool_use = $e.usage.server_tool_use
	else . end) | .msg.content = .content | .msg'
# Drop what differs between two runs of the same turn (ids, expiry times).
NORM='walk(if type == "object" then del(.id, .tool_use_id, .file_id, .expires_at) else . end)'
sse_data() { sed -n 's/^data: //p' "$1"; }

@test "startup: prints the listening line; refuses non-loopback hosts" {
	grep -qx "ca-emu: listening on http://127.0.0.1:$(cat "$EMU_DIR/port")" "$EMU_DIR/stderr"
	run "$EMU_PY" "$EMU_SCRIPT" --host 0.0.0.0 --port 0
	[ "$status" -ne 0 ]
	[[ "$output" == *loopback* ]]
	run "$EMU_PY" "$EMU_SCRIPT" --host 192.168.1.1 --port 0
	[ "$status" -ne 0 ]
}

@test "startup: a second instance on 127.0.0.2 writes its port file and exits 0 on SIGTERM" {
	"$EMU_PY" "$EMU_SCRIPT" -D --host 127.0.0.2 --port 0 --port-file "$T/p2" 2>"$T/e2" 3>&- &
	local pid=$! i rc=0
	for i in $(seq 600); do
		[ -s "$T/p2" ] && break
		sleep 0.05
	done
	grep -qx '[0-9][0-9]*' "$T/p2"
	grep -qx "ca-emu: listening on http://127.0.0.2:$(cat "$T/p2")" "$T/e2"
	run curl -sS "http://127.0.0.2:$(cat "$T/p2")/v1/files"
	[ "$status" -eq 0 ]
	[[ "$output" == *authentication_error* ]]
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "auth: no key is 401 authentication_error, with request-id and JSON type" {
	call POST /v1/messages -H 'anthropic-version: 2026-10-21' --data-binary "$(mkreq hi)"
	[ "$STATUS" = 401 ]
	[ "$(jq -r .type <<<"$BODY")" = error ]
	[ "$(jq -r .error.type <<<"$BODY")" = authentication_error ]
	[[ "$(jq -r .request_id <<<"$BODY")" == req_* ]]
	[[ "$(hdr request-id)" == req_* ]]
	[[ "$(hdr content-type)" == application/json* ]]
	[ -n "$(hdr content-length)" ]
	[ -n "$(hdr anthropic-ratelimit-requests-limit)" ]
	call POST /v1/messages -H 'anthropic-version: 2026-10-21' -H 'Authorization: Bearer ' --data-binary "$(mkreq hi)"
	[ "$STATUS" = 401 ]
	call POST /v1/messages -H 'anthropic-version: 2026-10-21' -H "Authorization: Bearer $KEY" --data-binary "$(mkreq hi)"
	[ "$STATUS" = 200 ]
}

@test "validation: anthropic-version missing or unknown is 400; 2023-06-01 is accepted" {
	call POST /v1/messages -H "x-api-key: $KEY" --data-binary "$(mkreq hi)"
	[ "$STATUS" = 400 ]
	[ "$(jq -r .error.type <<<"$BODY")" = invalid_request_error ]
	call POST /v1/messages -H "x-api-key: $KEY" -H 'anthropic-version: 2024-01-01' --data-binary "$(mkreq hi)"
	[ "$STATUS" = 400 ]
	call POST /v1/messages -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01' --data-binary "$(mkreq hi)"
	[ "$STATUS" = 200 ]
}

@test "validation: missing fields, bad JSON, unknown tools, unknown ids" {
	post_msg "$(mkreq hi | jq -c 'del(.max_tokens)')"
	[ "$STATUS" = 400 ]
	[ "$(jq -r .error.message <<<"$BODY")" = "max_tokens: field required" ]
	post_msg "$(mkreq hi | jq -c 'del(.model)')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi | jq -c 'del(.messages)')"
	[ "$STATUS" = 400 ]
	post_msg '{"model": "m", '
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi | jq -c '.tools = [{type: "web_search_20990101", name: "web_search"}]')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi | jq -c '.tools = [{name: "f", input_schema: {type: "object"}}]')"
	[ "$STATUS" = 200 ]
	post_msg "$(mkreq hi "" | jq -c '.messages[0].content = [{type: "container_upload", file_id: "file_x"}]')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi | jq -c '.messages[0].content = [{type: "container_upload", file_id: "file_nope"}]')"
	[ "$STATUS" = 404 ]
	[ "$(jq -r .error.type <<<"$BODY")" = not_found_error ]
	post_msg "$(mkreq hi | jq -c '.container = "container_nope"')"
	[ "$STATUS" = 404 ]
	post_msg "$(mkreq hi | jq -c '.container = {id: "container_nope"}')"
	[ "$STATUS" = 404 ]
}

@test "validation: temperature/top_p/top_k are 400 under 2026-10-21 only" {
	post_msg "$(mkreq hi | jq -c '.temperature = 1')"
	[ "$STATUS" = 400 ]
	[ "$(jq -r .error.message <<<"$BODY")" = "temperature: Extra inputs are not permitted" ]
	post_msg "$(mkreq hi | jq -c '.top_k = 5')"
	[ "$STATUS" = 400 ]
	call POST /v1/messages -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01' \
		--data-binary "$(mkreq hi | jq -c '.temperature = 1')"
	[ "$STATUS" = 200 ]
}

@test "routing: unknown path 404, wrong method 405" {
	apicall GET /v1/nothing
	[ "$STATUS" = 404 ]
	[ "$(jq -r .error.type <<<"$BODY")" = not_found_error ]
	apicall GET /v1/messages
	[ "$STATUS" = 405 ]
}

@test "messages: no code step: one text block that says what the emulator runs, no container" {
	post_msg "$(mkreq 'hello there' "")"
	[ "$STATUS" = 200 ]
	jq -e '.type == "message" and .role == "assistant" and .model == "claude-opus-5-5"
		and (.id | startswith("msg_")) and .stop_reason == "end_turn"
		and .stop_sequence == null and .stop_details == null and .container == null
		and .diagnostics == null and .usage.service_tier == "standard"
		and .content == [{type: "text", text: "No code to run in \"hello there\": the prompt holds no fenced code. This is ca-emu, a local emulator, not a model: it runs only the code written in the prompt, in a fenced block (a line ```python or ```bash, the code, then a line ```).", citations: null}]' <<<"$BODY"
	# Code, but no tool to run it: the reply says that instead.
	post_msg "$(mkreq $'```python\nprint(1)\n```' "")"
	jq -e '.content[0].text | contains("the prompt holds code, but the request has no code execution tool to run it")' <<<"$BODY"
}

@test "messages: a python step really runs; its output file downloads byte-exact" {
	local code=$'```python\nimport os\nprint(6 * 7)\nopen(os.path.join(os.environ["OUTPUT_DIR"], "out.bin"), "wb").write(bytes(range(256)) * 3)\n```'
	post_msg "$(mkreq "$code")"
	[ "$STATUS" = 200 ]
	jq -e '[.content[].type] == ["text", "server_tool_use", "code_execution_tool_result", "text"]' <<<"$BODY"
	jq -e '.content[0].text == "I'"'"'ll run 1 code step(s)."' <<<"$BODY"
	jq -e '.content[1] | .name == "code_execution" and (.id | startswith("srvtoolu_"))
		and .caller == {type: "direct"} and (.input.code | contains("print(6 * 7)"))' <<<"$BODY"
	jq -e '.content[2].tool_use_id == .content[1].id
		and .content[2].content.type == "code_execution_result"
		and .content[2].content.stdout == "42\n" and .content[2].content.return_code == 0' <<<"$BODY"
	jq -e '.content[3].text == "Done: 1 step(s) ran; files: out.bin."' <<<"$BODY"
	jq -e '(.container.id | startswith("container_")) and (.container.expires_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))
		and .container.skills == null' <<<"$BODY"
	jq -e '.usage.server_tool_use == {web_search_requests: 0, web_fetch_requests: 0, code_execution_requests: 1}' <<<"$BODY"
	local fid
	fid=$(jq -r '.content[2].content.content[0] | select(.type == "code_execution_output") | .file_id' <<<"$BODY")
	[[ "$fid" == file_* ]]
	apicall GET "/v1/files/$fid"
	[ "$STATUS" = 200 ]
	jq -e '.filename == "out.bin" and .downloadable == true and .size_bytes == 768 and .type == "file"' <<<"$BODY"
	apicall GET "/v1/files/$fid/content"
	[ "$STATUS" = 200 ]
	[[ "$(hdr content-type)" == application/octet-stream* ]]
	[ "$(hdr content-length)" = 768 ]
	"$EMU_PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3)' >"$T/want"
	cmp "$T/body" "$T/want"
}

@test "messages: step shapes of code_execution_20250825 (create + bash, view, str_replace, bash)" {
	local s=$'```python\nopen("h.txt", "w").write("one\\ntwo\\n")\nprint("made")\n```\n```view h.txt```\n```str_replace /tmp/work/h.txt\ntwo\n---\nTWO\n```\n```bash\ncat h.txt\n```\n```view /etc/passwd\n```'
	post_msg "$(mkreq "$s" code_execution_20250825)"
	[ "$STATUS" = 200 ]
	jq -e '[.content[] | select(.type == "server_tool_use") | [.name, (.input.command)]]
		== [["text_editor_code_execution", "create"], ["bash_code_execution", "python3 step_1.py"],
		    ["text_editor_code_execution", "view"], ["text_editor_code_execution", "str_replace"],
		    ["bash_code_execution", "cat h.txt"], ["text_editor_code_execution", "view"]]' <<<"$BODY"
	jq -e '[.content[] | select(.type | endswith("_tool_result")) | .content.type]
		== ["text_editor_code_execution_create_result", "bash_code_execution_result",
		    "text_editor_code_execution_view_result", "text_editor_code_execution_str_replace_result",
		    "bash_code_execution_result", "text_editor_code_execution_tool_result_error"]' <<<"$BODY"
	jq -e '[.content[] | select(.type == "bash_code_execution_tool_result") | .content.stdout] == ["made\n", "one\nTWO\n"]' <<<"$BODY"
	jq -e '.content[] | select(.content.type? == "text_editor_code_execution_view_result") | .content
		| .content == "one\ntwo\n" and .num_lines == 2 and .file_type == "text"' <<<"$BODY"
	jq -e '.content[] | select(.content.type? == "text_editor_code_execution_str_replace_result") | .content
		== {type: "text_editor_code_execution_str_replace_result", old_start: 2, old_lines: 1,
		    new_start: 2, new_lines: 1, lines: ["-two", "+TWO"]}' <<<"$BODY"
	jq -e '.content[-2].content.error_code == "file_not_found" and .usage.server_tool_use.code_execution_requests == 6' <<<"$BODY"
}

@test "messages: code_execution_20250522 shows a bash step as python; exit codes and stderr pass through" {
	post_msg "$(mkreq $'```bash\necho oops >&2; exit 3\n```' code_execution_20250522)"
	[ "$STATUS" = 200 ]
	jq -e '.content[1].name == "code_execution" and (.content[1].input.code | startswith("import subprocess\n"))' <<<"$BODY"
	jq -e '.content[2].content | .type == "code_execution_result" and .stderr == "oops\n" and .return_code == 3' <<<"$BODY"
}

@test "messages: a step over the time limit gives execution_time_exceeded" {
	ctl config '{"exec_timeout": 0.5}' >/dev/null
	post_msg "$(mkreq $'```bash\nsleep 5\n```')"
	[ "$STATUS" = 200 ]
	jq -e '.content[2].content == {type: "bash_code_execution_tool_result_error", error_code: "execution_time_exceeded"}' <<<"$BODY"
}

@test "files: upload, list (GA and beta shapes), ids[], metadata, delete" {
	local a b c i
	for i in 1 2 3; do printf 'file %s\n' "$i" >"$T/f$i.txt"; done
	apicall POST /v1/files -F "file=@$T/f1.txt"
	[ "$STATUS" = 200 ]
	jq -e '.type == "file" and .filename == "f1.txt" and .mime_type == "text/plain" and .size_bytes == 7
		and .downloadable == false and .expires_at == null and (.id | startswith("file_"))' <<<"$BODY"
	a=$(jq -r .id <<<"$BODY")
	apicall POST /v1/files -F "file=@$T/f2.txt;filename=../../dir/f2.txt" -F expires_in_seconds=3600
	[ "$STATUS" = 200 ]
	jq -e '.filename == "f2.txt" and (.expires_at | test("Z$"))' <<<"$BODY"
	b=$(jq -r .id <<<"$BODY")
	apicall POST /v1/files -F "file=@$T/f3.txt;type=application/octet-stream;filename="
	[ "$STATUS" = 200 ]
	jq -e '.filename | startswith("unnamed")' <<<"$BODY"
	c=$(jq -r .id <<<"$BODY")
	# GA: {data, next_page}, newest first, page cursors.
	apicall GET '/v1/files?limit=2'
	[ "$STATUS" = 200 ]
	jq -e --arg b "$b" --arg c "$c" '[.data[].id] == [$c, $b] and (.next_page | type == "string") and (has("has_more") | not)' <<<"$BODY"
	local next
	next=$(jq -r .next_page <<<"$BODY")
	apicall GET "/v1/files?limit=1&page=$next"
	jq -e --arg a "$a" '[.data[].id] == [$a]' <<<"$BODY"
	apicall GET "/v1/files?ids%5B%5D=$a&ids%5B%5D=file_unknown&ids%5B%5D=$c"
	[ "$STATUS" = 200 ]
	jq -e --arg a "$a" --arg c "$c" '[.data[].id] == [$a, $c] and .next_page == null' <<<"$BODY"
	apicall GET "/v1/files?ids%5B%5D=$a&limit=2"
	[ "$STATUS" = 400 ]
	apicall GET "/v1/files?after_id=$c"
	[ "$STATUS" = 400 ]
	# Beta: {data, has_more, first_id, last_id}, before_id/after_id.
	apicall GET '/v1/files?limit=2' -H 'anthropic-beta: mcp-client-2025-11-20 , files-api-2025-04-14'
	[ "$STATUS" = 200 ]
	jq -e --arg b "$b" --arg c "$c" '[.data[].id] == [$c, $b] and .has_more == true
		and .first_id == $c and .last_id == $b and (has("next_page") | not)' <<<"$BODY"
	apicall GET "/v1/files?after_id=$c&limit=5" -H 'anthropic-beta: files-api-2025-04-14'
	jq -e --arg b "$b" '.data[0].id == $b' <<<"$BODY"
	apicall GET "/v1/files?before_id=$b&limit=1" -H 'anthropic-beta: skills-2025-10-02' -H 'anthropic-beta: files-api-2025-04-14'
	jq -e --arg c "$c" '[.data[].id] == [$c] and .has_more == false' <<<"$BODY"
	# Delete.
	apicall DELETE "/v1/files/$b"
	[ "$STATUS" = 200 ]
	jq -e --arg b "$b" '. == {id: $b, type: "file_deleted"}' <<<"$BODY"
	apicall GET "/v1/files/$b"
	[ "$STATUS" = 404 ]
	[ "$(jq -r .error.type <<<"$BODY")" = not_found_error ]
	apicall GET "/v1/files?ids%5B%5D=$b"
	jq -e '.data == []' <<<"$BODY"
}

@test "files: an uploaded file is 400 file_not_downloadable; expired is 404 file_expired" {
	printf 'x' >"$T/u.txt"
	apicall POST /v1/files -F "file=@$T/u.txt"
	local id
	id=$(jq -r .id <<<"$BODY")
	apicall GET "/v1/files/$id/content"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and .error.details.error_code == "file_not_downloadable"' <<<"$BODY"
	id=$(ctl files '{"filename": "gone.txt", "content_b64": "aGk=", "expired": true}' | jq -r .id)
	apicall GET "/v1/files/$id/content"
	[ "$STATUS" = 404 ]
	jq -e '.error.type == "not_found_error" and .error.details.error_code == "file_expired"' <<<"$BODY"
	apicall GET /v1/files/file_doesnotexist/content
	[ "$STATUS" = 404 ]
	jq -e '.error.details == null' <<<"$BODY"
}

@test "files: upload errors (no file field, bad expires_in_seconds, too large, not multipart)" {
	printf 'abc' >"$T/x.txt"
	apicall POST /v1/files -F "other=@$T/x.txt"
	[ "$STATUS" = 400 ]
	apicall POST /v1/files -F "file=@$T/x.txt" -F expires_in_seconds=10
	[ "$STATUS" = 400 ]
	apicall POST /v1/files -H 'content-type: application/json' --data-binary '{}'
	[ "$STATUS" = 400 ]
	ctl config '{"max_file_size": 1000}' >/dev/null
	head -c 5000 /dev/zero >"$T/big.bin"
	apicall POST /v1/files -F "file=@$T/big.bin"
	[ "$STATUS" = 413 ]
	[ "$(jq -r .error.type <<<"$BODY")" = request_too_large ]
	apicall POST /v1/files -F "file=@$T/x.txt"
	[ "$STATUS" = 200 ]
}

@test "control: /_emu/files makes hostile names and generated bytes" {
	local j
	j=$(ctl files "$(jq -nc '{filename: "../../x\n\u001b]0;t\u0007", size: 100}')")
	jq -e '.filename == "../../x\n\u001b]0;t\u0007" and .downloadable == true and .size_bytes == 100' <<<"$j"
	apicall GET "/v1/files/$(jq -r .id <<<"$j")/content"
	[ "$STATUS" = 200 ]
	yes 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!' | head -c 100 >"$T/want" || true
	cmp "$T/body" "$T/want"
	j=$(ctl "files/$(jq -r .id <<<"$j")" '{"filename": "/etc/passwd", "downloadable": false}')
	jq -e '.filename == "/etc/passwd" and .downloadable == false' <<<"$j"
}

@test "stream: exact SSE framing; assembled stream equals the non-streaming message" {
	local s=$'```python\nimport os\nprint("hi")\nopen(os.environ["OUTPUT_DIR"] + "/r.txt", "w").write("r")\n```\n```bash\necho two\n```'
	post_msg "$(mkreq "$s")"
	[ "$STATUS" = 200 ]
	cp "$T/body" "$T/plain.json"
	post_msg "$(mkreq "$s" | jq -c '.stream = true')" -N
	[ "$STATUS" = 200 ]
	[[ "$(hdr content-type)" == text/event-stream* ]]
	[ "$(hdr transfer-encoding)" = chunked ]
	cp "$T/body" "$T/sse"
	# Strict triples: "event: NAME", "data: JSON", blank.
	awk 'NR % 3 == 1 && !/^event: [a-z_]+$/ { bad = 1 }
	     NR % 3 == 2 && !/^data: \{/ { bad = 1 }
	     NR % 3 == 0 && !/^$/ { bad = 1 }
	     END { exit bad || NR % 3 != 0 }' "$T/sse"
	# Each event name equals its data type; message_start comes first and
	# message_stop last, as the API's streaming documentation orders them.
	[ "$(sed -n 's/^event: //p' "$T/sse")" = "$(sse_data "$T/sse" | jq -r .type)" ]
	[ "$(sed -n 's/^event: //p' "$T/sse" | head -1)" = message_start ]
	[ "$(sed -n 's/^event: //p' "$T/sse" | tail -1)" = message_stop ]
	[ "$(sed -n 's/^event: //p' "$T/sse" | tail -2 | head -1)" = message_delta ]
	grep -qx 'event: ping' "$T/sse"
	sse_data "$T/sse" | jq -se '.[0].message | .content == [] and .stop_reason == null and .container == null'
	# Text in 2+ deltas; tool input starts {} then "" then 2+ fragments; results whole.
	sse_data "$T/sse" | jq -se '[.[] | select(.type == "content_block_delta" and .index == 0)] | length >= 2'
	sse_data "$T/sse" | jq -se '(.[] | select(.type == "content_block_start" and .index == 1) | .content_block.input == {})
		and ([.[] | select(.type == "content_block_delta" and .index == 1) | .delta.partial_json] | .[0] == "" and length >= 3)
		and ([.[] | select(.index == 2) | .type] == ["content_block_start", "content_block_stop"])'
	sse_data "$T/sse" | jq -se "$ASSEMBLE" >"$T/assembled.json"
	[ "$(jq -c "$NORM" "$T/assembled.json")" = "$(jq -c "$NORM" "$T/plain.json")" ]
	jq -e '.content[-1].text == "Done: 2 step(s) ran; files: r.txt."' "$T/assembled.json"
	jq -e '.usage.server_tool_use.code_execution_requests == 2 and .stop_reason == "end_turn"' "$T/assembled.json"
}

@test "stream: events are flushed while code runs (message_start reaches the client before the code ends)" {
	# The code waits for a file the client makes only once it has read
	# message_start: buffered events would leave it waiting until the
	# time limit, and the step would fail.
	ctl config '{"exec_timeout": 30}' >/dev/null
	curl -sS -N "${CA_API_HEADERS[@]}" "$EMU/v1/messages" \
		--data-binary "$(mkreq "$(printf '```bash\nwhile [ ! -e %s/go ]; do sleep 0.05; done; echo released\n```' "$T")" | jq -c '.stream = true')" |
		while IFS= read -r line; do
			printf '%s\n' "$line"
			if [ "$line" = "event: message_start" ]; then touch "$T/go"; fi
		done >"$T/sse"
	[ -e "$T/go" ]
	[ "$(sed -n 's/^event: //p' "$T/sse" | sed -n '1p;$p' | tr '\n' ' ')" = "message_start message_stop " ]
	sse_data "$T/sse" | jq -se "$ASSEMBLE" >"$T/assembled.json"
	jq -e '[.content[] | select(.type == "bash_code_execution_tool_result") | .content.stdout] == ["released\n"]' "$T/assembled.json"
}

@test "pause_turn: one step per response, continuation counts server_tool_use blocks" {
	ctl config '{"pause_each_step": true}' >/dev/null
	local req r1 r2 r3 c
	req=$(mkreq $'```bash\necho one > one.txt\n```\n```bash\ncat one.txt\n```')
	post_msg "$req"
	r1=$BODY
	jq -e '.stop_reason == "pause_turn" and ([.content[].type] == ["text", "server_tool_use", "bash_code_execution_tool_result"])' <<<"$r1"
	c=$(jq -r .container.id <<<"$r1")
	post_msg "$(jq -c --argjson r "$r1" --arg c "$c" '.container = $c | .messages += [{role: "assistant", content: $r.content}]' <<<"$req")"
	r2=$BODY
	jq -e --arg c "$c" '.stop_reason == "pause_turn" and .container.id == $c
		and ([.content[].type] == ["server_tool_use", "bash_code_execution_tool_result"])
		and .content[1].content.stdout == "one\n"' <<<"$r2"
	post_msg "$(jq -c --argjson r "$r1" --argjson r2 "$r2" --arg c "$c" \
		'.container = $c | .messages += [{role: "assistant", content: ($r.content + $r2.content)}]' <<<"$req")"
	r3=$BODY
	jq -e '.stop_reason == "end_turn" and .content == [{type: "text", text: "Done: 2 step(s) ran; no files.", citations: null}]' <<<"$r3"
	# Without pausing, the same script ends in one response.
	ctl config '{"pause_each_step": false}' >/dev/null
	post_msg "$req"
	jq -e '.stop_reason == "end_turn" and ([.content[] | select(.type == "server_tool_use")] | length) == 2' <<<"$BODY"
}

@test "containers: a named container keeps files; container_upload copies files in; expiry is 400" {
	printf 'uploaded data\n' >"$T/data.csv"
	apicall POST /v1/files -F "file=@$T/data.csv"
	local fid c
	fid=$(jq -r .id <<<"$BODY")
	post_msg "$(mkreq $'```bash\necho kept > keep.txt; cat data.csv\n```' |
		jq -c --arg f "$fid" '.messages[0].content = [{type: "text", text: .messages[0].content}, {type: "container_upload", file_id: $f}]')"
	[ "$STATUS" = 200 ]
	jq -e '.content[2].content.stdout == "uploaded data\n"' <<<"$BODY"
	c=$(jq -r .container.id <<<"$BODY")
	post_msg "$(mkreq $'```bash\ncat keep.txt\n```' | jq -c --arg c "$c" '.container = $c')"
	[ "$STATUS" = 200 ]
	jq -e --arg c "$c" '.container.id == $c and .content[2].content.stdout == "kept\n"' <<<"$BODY"
	post_msg "$(mkreq $'```bash\ncat keep.txt\n```' | jq -c --arg c "$c" '.container = {id: $c}')"
	jq -e '.content[2].content.stdout == "kept\n"' <<<"$BODY"
	post_msg "$(mkreq $'```bash\ncat keep.txt\n```')"
	jq -e --arg c "$c" '.container.id != $c and .content[2].content.return_code != 0' <<<"$BODY"
	ctl "containers/$c" '{"expired": true}' >/dev/null
	post_msg "$(mkreq hi | jq -c --arg c "$c" '.container = $c')"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and .error.details.error_code == "container_expired"' <<<"$BODY"
}

@test "http: keep-alive reuses one connection for two requests" {
	curl -sS "${CA_API_HEADERS[@]}" \
		-w '%{num_connects}\n' -o /dev/null "$EMU/v1/files" -o /dev/null "$EMU/v1/files" >"$T/n"
	[ "$(cat "$T/n" | tr '\n' ' ')" = "1 0 " ]
	[ "$(jq -s '[.[].conn] | unique | length' "$EMU_LOG")" = 1 ]
}

@test "log: one NDJSON line per request, keys redacted everywhere" {
	post_msg "$(mkreq hi)"
	call GET "/v1/files?limit=3&key=$KEY" -H "Authorization: Bearer $KEY" -H 'anthropic-version: 2026-10-21'
	[ "$STATUS" = 200 ]
	[ "$(wc -l <"$EMU_LOG")" -eq 2 ]
	[ "$(grep -c "$KEY" "$EMU_LOG")" -eq 0 ]
	jq -se '.[0] | .method == "POST" and .path == "/v1/messages" and .status == 200
		and .headers["x-api-key"] == "***" and .body.model == "claude-opus-5-5" and .multipart == null
		and (.t | type == "number") and .query == {}' "$EMU_LOG"
	jq -se '.[1] | .path == "/v1/files" and .headers.authorization == "***"
		and .query.limit == ["3"] and .query.key == ["***"] and .key_elsewhere == true' "$EMU_LOG"
	printf 'm' >"$T/m.txt"
	apicall POST /v1/files -F "file=@$T/m.txt"
	tail -1 "$EMU_LOG" | jq -e '.multipart == [{name: "file", filename: "m.txt", content_type: "text/plain", size: 1}] and .body == null'
}

@test "faults: status with headers, default error bodies, times, method and glob paths" {
	fault '[{"path": "/v1/messages", "times": 2, "status": 529, "headers": {"retry-after": "2"}},
		{"path": "/v1/files*", "method": "POST", "status": 413}]'
	post_msg "$(mkreq hi)"
	[ "$STATUS" = 529 ]
	[ "$(hdr retry-after)" = 2 ]
	jq -e '.error.type == "overloaded_error" and (.request_id | startswith("req_"))' <<<"$BODY"
	post_msg "$(mkreq hi)"
	[ "$STATUS" = 529 ]
	post_msg "$(mkreq hi)"
	[ "$STATUS" = 200 ]
	apicall GET /v1/files
	[ "$STATUS" = 200 ]
	printf 'a' >"$T/a.txt"
	apicall POST /v1/files -F "file=@$T/a.txt"
	[ "$STATUS" = 413 ]
	[ "$(jq -r .error.type <<<"$BODY")" = request_too_large ]
	fault '{"path": "/v1/files/*/content", "status": 200, "body": "<html>oops</html>", "headers": {"content-type": "text/html"}}'
	apicall GET /v1/files/file_x/content
	[ "$STATUS" = 200 ]
	[ "$BODY" = "<html>oops</html>" ]
	[[ "$(hdr content-type)" == text/html* ]]
	fault '{"status": 500, "headers": {"x-should-retry": "false"}}'
	apicall GET /v1/files
	[ "$STATUS" = 500 ]
	[ "$(jq -r .error.type <<<"$BODY")" = api_error ]
	[ "$(hdr x-should-retry)" = false ]
	jq -se '[.[].fault] | .[0] == "status:529" and (map(select(. == null)) | length) == 2' "$EMU_LOG"
}

@test "faults: reset before_headers is a TCP RST; after_headers cuts the body" {
	fault '{"path": "/v1/messages", "reset": "before_headers"}'
	run curl -sS "${CA_API_HEADERS[@]}" "$EMU/v1/messages" --data-binary "$(mkreq hi)"
	[ "$status" -eq 56 ]
	[[ "$output" == *reset* ]]
	fault '{"path": "/v1/messages", "reset": "after_headers"}'
	run curl -sS "${CA_API_HEADERS[@]}" "$EMU/v1/messages" --data-binary "$(mkreq hi)"
	[ "$status" -eq 56 ] || [ "$status" -eq 18 ]
	jq -se '[.[].status] == [0, 0] and [.[].fault] == ["reset:before_headers", "reset:after_headers"]' "$EMU_LOG"
	post_msg "$(mkreq hi)"
	[ "$STATUS" = 200 ]
}

# The pauses the faults made, from the emulator's own record.
pauses() { curl -sS -f "$EMU/_emu/faults" | jq -c '.pauses[]'; }

@test "faults: latency_ms delays the answer, once, before it is sent" {
	fault '{"path": "/v1/files", "latency_ms": 600}'
	apicall GET /v1/files
	[ "$STATUS" = 200 ]
	rid=$(hdr request-id)
	apicall GET /v1/files
	[ "$STATUS" = 200 ]
	# One pause, of the first request, between its arrival and its answer.
	[ "$(pauses | wc -l)" -eq 1 ]
	jq -se --arg rid "$rid" '.[0] | .request_id == $rid and .fault == "latency_ms" and .ms == 600
		and .after_events == null and .t1 - .t0 >= 0.599' <(pauses)
	jq -se '[.[].fault] == ["latency_ms", null]' "$EMU_LOG"
	jq -se --argjson p "$(pauses)" '.[0].request_id == $p.request_id and .[0].t <= $p.t0' "$EMU_LOG"
}

@test "faults: stream error_after sends event: error and ends the body properly" {
	fault '{"path": "/v1/messages", "stream": "error_after", "after": 3}'
	run curl -sS -N "${CA_API_HEADERS[@]}" "$EMU/v1/messages" \
		--data-binary "$(mkreq hi | jq -c '.stream = true')"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/sse"
	[ "$(grep -c '^event: ' "$T/sse")" -eq 4 ]
	[ "$(sed -n 's/^event: //p' "$T/sse" | tail -1)" = error ]
	sse_data "$T/sse" | tail -1 | jq -e '. == {type: "error", error: {type: "overloaded_error", message: "Overloaded"}}'
}

@test "faults: stream cut_after ends cleanly without message_stop; reset_after resets" {
	fault '{"path": "/v1/messages", "stream": "cut_after", "after": 2}'
	run curl -sS -N "${CA_API_HEADERS[@]}" "$EMU/v1/messages" \
		--data-binary "$(mkreq hi | jq -c '.stream = true')"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^event: ' <<<"$output")" -eq 2 ]
	[ "$(grep -c message_stop <<<"$output")" -eq 0 ]
	fault '{"path": "/v1/messages", "stream": "reset_after", "after": 4}'
	run curl -sS -N "${CA_API_HEADERS[@]}" "$EMU/v1/messages" \
		--data-binary "$(mkreq hi | jq -c '.stream = true')"
	[ "$status" -eq 56 ] || [ "$status" -eq 18 ]
	[ "$(grep -c '^event: ' <<<"$output")" -eq 4 ]
}

@test "faults: stream stall_after pauses after K events; slow spaces every event" {
	fault '{"path": "/v1/messages", "stream": "stall_after", "after": 2, "stall_ms": 300}'
	run curl -sS -N "${CA_API_HEADERS[@]}" "$EMU/v1/messages" \
		--data-binary "$(mkreq hi | jq -c '.stream = true')"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/sse"
	n=$(grep -c '^event: ' "$T/sse")
	# The whole stream came, and the one pause was after its second event.
	[ "$(sed -n 's/^event: //p' "$T/sse" | tail -1)" = message_stop ]
	[ "$n" -gt 3 ]
	[ "$(pauses | wc -l)" -eq 1 ]
	pauses | jq -e '.fault == "stream:stall_after" and .after_events == 2 and .ms == 300
		and .t1 - .t0 >= 0.299'
	[ "$(pauses | jq -r .request_id)" = "$(jq -r .request_id "$EMU_LOG")" ]
	# slow: a pause before every event but the first, in order.
	curl -sS -f -X POST "$EMU/_emu/reset" >/dev/null
	fault '{"path": "/v1/messages", "stream": "slow", "gap_ms": 20}'
	post_msg "$(mkreq hi | jq -c '.stream = true')"
	n=$(grep -c '^event: ' "$T/body")
	[ "$n" -gt 3 ]
	pauses | jq -se --argjson n "$n" '([.[].after_events] == [range(1; $n)])
		and all(.[]; .fault == "stream:slow" and .ms == 20)
		and ([.[].t0] | . == sort)'
}

@test "faults: content_length_lie, cut_body, redirect, huge_body on downloads" {
	local id
	id=$(ctl files '{"filename": "d.bin", "size": 200000}' | jq -r .id)
	fault '{"path": "/v1/files/*/content", "content_length_lie": true}'
	run curl -sS -o "$T/d1" "${CA_API_HEADERS[@]}" "$EMU/v1/files/$id/content"
	[ "$status" -eq 18 ]
	[ "$(wc -c <"$T/d1")" -eq 200000 ]
	fault '{"path": "/v1/files/*/content", "cut_body": true}'
	run curl -sS -o "$T/d2" "${CA_API_HEADERS[@]}" "$EMU/v1/files/$id/content"
	[ "$status" -eq 18 ]
	[ "$(wc -c <"$T/d2")" -eq 100000 ]
	fault '{"path": "/v1/files/*/content", "redirect": "http://127.0.0.2:9/elsewhere"}'
	apicall GET "/v1/files/$id/content"
	[ "$STATUS" = 302 ]
	[ "$(hdr location)" = "http://127.0.0.2:9/elsewhere" ]
	fault '{"path": "/v1/files/*/content", "huge_body": 3000000}'
	apicall GET "/v1/files/$id/content"
	[ "$STATUS" = 200 ]
	[ "$(hdr content-length)" = 3000000 ]
	yes 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!' | head -c 3000000 >"$T/want" || true
	cmp "$T/body" "$T/want"
	apicall GET "/v1/files/$id/content"
	[ "$STATUS" = 200 ]
	[ "$(wc -c <"$T/body")" -eq 200000 ]
}

@test "faults: bad rules are rejected; DELETE clears the queue" {
	run curl -sS -o /dev/null -w '%{http_code}' -X POST "$EMU/_emu/faults" --data-binary '{"path": "/v1/messages", "stauts": 500}'
	[ "$output" = 400 ]
	fault '{"path": "/v1/files", "status": 503}'
	curl -sS -f -X DELETE "$EMU/_emu/faults" >/dev/null
	apicall GET /v1/files
	[ "$STATUS" = 200 ]
}

@test "faults (extensions): headers-only, hang_ms, raw SSE, partial-body reset" {
	fault '{"path": "/v1/files", "headers": {"anthropic-ratelimit-requests-remaining": "0", "request-id": null}}'
	apicall GET /v1/files
	[ "$STATUS" = 200 ]
	[ "$(hdr anthropic-ratelimit-requests-remaining)" = 0 ]
	[ -z "$(hdr request-id)" ]
	fault '{"path": "/v1/files", "hang_ms": 300}'
	run curl -sS "${CA_API_HEADERS[@]}" "$EMU/v1/files"
	[ "$status" -eq 52 ]
	fault '{"path": "/v1/messages", "stream": "raw", "sse": "event: ping\r\ndata:{\"type\":\"ping\"}\r\n\r\n", "chunk_bytes": 1}'
	post_msg "$(mkreq hi)"
	[ "$STATUS" = 200 ]
	[ "$(cat "$T/body")" = "$(printf 'event: ping\r\ndata:{"type":"ping"}\r\n\r\n')" ]
	head -c 300000 /dev/zero >"$T/up.bin"
	fault '{"method": "POST", "path": "/v1/files", "reset": "before_headers", "read_body_bytes": 1000}'
	run curl -sS "${CA_API_HEADERS[@]}" -F "file=@$T/up.bin" "$EMU/v1/files"
	[ "$status" -ne 0 ]
	jq -se '[.[].status] == [200, 0, 200, 0]' "$EMU_LOG"
}

@test "count_tokens: validated like messages, answers input_tokens" {
	apicall POST /v1/messages/count_tokens --data-binary '{"model": "claude-opus-5-5", "messages": [{"role": "user", "content": "hello"}]}'
	[ "$STATUS" = 200 ]
	jq -e '.input_tokens > 0' <<<"$BODY"
	apicall POST /v1/messages/count_tokens --data-binary '{"model": "m"}'
	[ "$STATUS" = 400 ]
}

# --- The emulator must not be easier than the API -------------------------

@test "strict: an unknown anthropic-beta is 400 on every endpoint; every known beta passes" {
	post_msg "$(mkreq hi)" -H 'anthropic-beta: code-exection-2025-08-25'
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error"
		and .error.message == "Unsupported beta header: code-exection-2025-08-25"' <<<"$BODY"
	apicall GET /v1/files -H 'anthropic-beta: files-api-2025-04-14,nope'
	[ "$STATUS" = 400 ]
	apicall POST /v1/messages/count_tokens -H 'anthropic-beta: nope' \
		--data-binary '{"model": "claude-opus-5-5", "messages": [{"role": "user", "content": "hi"}]}'
	[ "$STATUS" = 400 ]
	local b
	for b in code-execution-2025-05-22 code-execution-2025-08-25 files-api-2025-04-14 \
		skills-2025-10-02 mcp-client-2025-04-04 mcp-client-2025-11-20 mcp-client-2026-09-15 \
		structured-outputs-2025-11-13 structured-outputs-2025-12-15 web-fetch-2025-09-10 \
		code-execution-web-tools-2026-02-09 prompt-caching-2024-07-31 token-counting-2024-11-01 \
		extended-cache-ttl-2025-04-11 thinking-display-updates-2026-08-18; do
		post_msg "$(mkreq hi "")" -H "anthropic-beta: $b"
		[ "$STATUS" = 200 ] || { echo "$b: $BODY"; return 1; }
	done
	post_msg "$(mkreq hi "")" -H 'anthropic-beta: skills-2025-10-02, files-api-2025-04-14' \
		-H 'anthropic-beta: mcp-client-2025-11-20'
	[ "$STATUS" = 200 ]
}

@test "strict: an image block must name an image file, a document a PDF or text file" {
	printf 'a,b\n' >"$T/d.csv"
	printf '\x89PNG\r\n\x1a\n' >"$T/p.png"
	printf 'plain\n' >"$T/n.txt"
	local csv png txt
	apicall POST /v1/files -F "file=@$T/d.csv;type=text/csv"
	csv=$(jq -r .id <<<"$BODY")
	apicall POST /v1/files -F "file=@$T/p.png;type=image/png"
	png=$(jq -r .id <<<"$BODY")
	apicall POST /v1/files -F "file=@$T/n.txt;type=text/plain"
	txt=$(jq -r .id <<<"$BODY")
	blk() { mkreq hi | jq -c --arg t "$1" --arg f "$2" \
		'.messages[0].content = [{type: "text", text: "hi"}, {type: $t, source: {type: "file", file_id: $f}}]'; }
	post_msg "$(blk image "$csv")"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and (.error.message | startswith("messages.0.content.1: file "))' <<<"$BODY"
	post_msg "$(blk document "$csv")"
	[ "$STATUS" = 400 ]
	post_msg "$(blk document "$png")"
	[ "$STATUS" = 400 ]
	# Inside a tool_result too.
	post_msg "$(mkreq hi | jq -c --arg f "$csv" '.messages[0].content = [{type: "tool_result", tool_use_id: "toolu_1",
		content: [{type: "image", source: {type: "file", file_id: $f}}]}]')"
	[ "$STATUS" = 400 ]
	post_msg "$(blk image "$png")"
	[ "$STATUS" = 200 ]
	post_msg "$(blk document "$txt")"
	[ "$STATUS" = 200 ]
	post_msg "$(mkreq hi | jq -c --arg f "$csv" '.messages[0].content = [{type: "text", text: "hi"}, {type: "container_upload", file_id: $f}]')"
	[ "$STATUS" = 200 ]
}

@test "strict: continuing after a container turn without container is 400" {
	local req r
	req=$(mkreq $'```bash\necho hi\n```')
	post_msg "$req"
	r=$BODY
	post_msg "$(jq -c --argjson r "$r" '.messages += [{role: "assistant", content: $r.content}, {role: "user", content: "more"}]' <<<"$req")"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and (.error.message | startswith("container:"))' <<<"$BODY"
	post_msg "$(jq -c --argjson r "$r" '.container = $r.container.id
		| .messages += [{role: "assistant", content: $r.content}, {role: "user", content: "more"}]' <<<"$req")"
	[ "$STATUS" = 200 ]
	# A turn with no code execution blocks needs no container.
	post_msg "$(jq -c '.messages += [{role: "assistant", content: [{type: "text", text: "hello"}]}, {role: "user", content: "more"}]' <<<"$req")"
	[ "$STATUS" = 200 ]
}

@test "strict: size limits are in MB: 32,000,000 bytes for messages, 500,000,000 for files" {
	# A valid request padded to exactly N bytes.
	pad() { python3 -c 'import json,sys
n = int(sys.argv[1])
r = {"model": "claude-opus-5-5", "max_tokens": 10, "messages": [{"role": "user", "content": ""}]}
r["messages"][0]["content"] = "x" * (n - len(json.dumps(r)))
sys.stdout.write(json.dumps(r))' "$1" >"$T/big"; }
	pad 32000001
	[ "$(wc -c <"$T/big")" -eq 32000001 ]
	apicall POST /v1/messages --data-binary @"$T/big"
	[ "$STATUS" = 413 ]
	jq -e '.error.type == "request_too_large"' <<<"$BODY"
	pad 32000000
	apicall POST /v1/messages --data-binary @"$T/big"
	[ "$STATUS" = 200 ]
	[ "$(curl -sS "$EMU/_emu/config" | jq .max_file_size)" = 500000000 ]
}

@test "strict: an unknown model is 404 not_found_error; the documented models pass" {
	post_msg "$(mkreq hi "" | jq -c '.model = "claude-nonesuch-9"')"
	[ "$STATUS" = 404 ]
	jq -e '.error.type == "not_found_error" and .error.message == "model: claude-nonesuch-9"' <<<"$BODY"
	apicall POST /v1/messages/count_tokens --data-binary '{"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}'
	[ "$STATUS" = 404 ]
	local m
	for m in claude-opus-5-5 claude-sonnet-5-5 claude-haiku-5-5 claude-fable-5-2 claude-mythos-5-2 \
		claude-opus-4-8 claude-sonnet-4-6 claude-haiku-4-5 claude-haiku-4-5-20251001 \
		claude-opus-4-5-20251101; do
		post_msg "$(mkreq hi "" | jq -c --arg m "$m" '.model = $m')"
		[ "$STATUS" = 200 ] || { echo "$m: $BODY"; return 1; }
	done
	# Past its end of life in lib/models.tsv, a model is retired: 404.
	for m in claude-sonnet-4-5-20250929 claude-mythos-preview claude-3-7-sonnet-20250219; do
		post_msg "$(mkreq hi "" | jq -c --arg m "$m" '.model = $m')"
		[ "$STATUS" = 404 ] || { echo "$m: $BODY"; return 1; }
	done
}

@test "strict: unknown top-level and tool fields are 400 Extra inputs; every documented field passes" {
	post_msg "$(mkreq hi | jq -c '.maxtokens = 5')"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and .error.message == "maxtokens: Extra inputs are not permitted"' <<<"$BODY"
	post_msg "$(mkreq hi | jq -c '.tools[0].nme = "x"')"
	[ "$STATUS" = 400 ]
	[ "$(jq -r .error.message <<<"$BODY")" = "tools.0.nme: Extra inputs are not permitted" ]
	post_msg "$(mkreq hi | jq -c '.tools += [{name: "f", input_schema: {type: "object"}, inputschema: {}}]')"
	[ "$STATUS" = 400 ]
	# mcp_servers exists only with the MCP beta.
	post_msg "$(mkreq hi "" | jq -c '.mcp_servers = []')"
	[ "$STATUS" = 400 ]
	# count_tokens has no max_tokens, container or stream.
	apicall POST /v1/messages/count_tokens --data-binary "$(mkreq hi)"
	[ "$STATUS" = 400 ]
	[ "$(jq -r .error.message <<<"$BODY")" = "max_tokens: Extra inputs are not permitted" ]
	post_msg "$(mkreq hi | jq -c '. + {system: [{type: "text", text: "be brief", cache_control: {type: "ephemeral", ttl: "1h"}}],
		metadata: {user_id: "u1"}, stop_sequences: ["END"], stream: false,
		tool_choice: {type: "auto"}, service_tier: "auto", speed: "standard", inference_geo: "global",
		cache_control: {type: "ephemeral"}, diagnostics: {previous_message_id: null},
		output_config: {effort: "low"}, thinking: {type: "adaptive", display: "omitted"}}
		| .tools[0] += {allowed_callers: ["direct"], cache_control: {type: "ephemeral"}, defer_loading: false, strict: false}
		| .tools += [{type: "custom", name: "f", description: "d", input_schema: {type: "object"}, strict: true,
			allowed_callers: ["code_execution_20260120"], input_examples: [{}], eager_input_streaming: true}]')"
	[ "$STATUS" = 200 ] || { echo "$BODY"; return 1; }
	# Sampling fields are known under 2023-06-01 only.
	call POST /v1/messages -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01' \
		--data-binary "$(mkreq hi "" | jq -c '.temperature = 0.5 | .top_p = 0.9 | .top_k = 5')"
	[ "$STATUS" = 200 ]
}

@test "strict: container_upload without file_id is 400, not 404" {
	post_msg "$(mkreq hi | jq -c '.messages[0].content = [{type: "text", text: "hi"}, {type: "container_upload"}]')"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and .error.message == "messages.0.content.1.file_id: Field required"' <<<"$BODY"
	post_msg "$(mkreq hi | jq -c '.messages[0].content = [{type: "image", source: {type: "file"}}]')"
	[ "$STATUS" = 400 ]
}

@test "strict: web search and web fetch tools are accepted with their documented fields" {
	local t
	for t in web_search_20250305 web_search_20260209 web_search_20260318; do
		post_msg "$(mkreq hi "" | jq -c --arg t "$t" '.tools = [{type: $t, name: "web_search", max_uses: 3,
			allowed_domains: ["example.com", "docs.python.org/3/"], allowed_callers: ["direct"],
			user_location: {type: "approximate", city: "Paris", country: "FR", timezone: "Europe/Paris"},
			cache_control: {type: "ephemeral"}}]')"
		[ "$STATUS" = 200 ] || { echo "$t: $BODY"; return 1; }
	done
	for t in web_fetch_20250910 web_fetch_20260209 web_fetch_20260309 web_fetch_20260318; do
		post_msg "$(mkreq hi "" | jq -c --arg t "$t" '.tools = [{type: $t, name: "web_fetch", max_uses: 2,
			blocked_domains: ["evil.example"], citations: {enabled: true}, max_content_tokens: 20000,
			allowed_callers: ["direct"]}]')"
		[ "$STATUS" = 200 ] || { echo "$t: $BODY"; return 1; }
	done
	post_msg "$(mkreq hi "" | jq -c '.tools = [{type: "web_fetch_20260318", name: "web_fetch", use_cache: false, response_inclusion: "excluded"},
		{type: "web_search_20260318", name: "web_search", response_inclusion: "full"},
		{type: "code_execution_20260521", name: "code_execution"}]')"
	[ "$STATUS" = 200 ]
	# Refused: a field of the other tool, both domain lists, a scheme in a
	# domain, a bad country, a wrong name, an old code execution version.
	local bad
	for bad in '{type: "web_search_20250305", name: "web_search", citations: {enabled: true}}' \
		'{type: "web_fetch_20250910", name: "web_fetch", use_cache: false}' \
		'{type: "web_fetch_20250910", name: "web_fetch", user_location: {type: "approximate", city: "X"}}' \
		'{type: "web_search_20250305", name: "web_search", allowed_domains: ["a.com"], blocked_domains: ["b.com"]}' \
		'{type: "web_search_20250305", name: "web_search", allowed_domains: ["https://a.com"]}' \
		'{type: "web_search_20250305", name: "web_search", user_location: {type: "approximate", country: "France"}}' \
		'{type: "web_search_20250305", name: "search"}' \
		'{type: "web_search_20250305", name: "web_search", max_uses: 0}'; do
		post_msg "$(mkreq hi "" | jq -c ".tools = [$bad]")"
		[ "$STATUS" = 400 ] || { echo "accepted: $bad"; return 1; }
		[ "$(jq -r .error.type <<<"$BODY")" = invalid_request_error ]
	done
	post_msg "$(mkreq hi code_execution_20250825 | jq -c '.tools += [{type: "web_search_20260209", name: "web_search"}]')"
	[ "$STATUS" = 400 ]
	# Haiku 4.5 has no programmatic tool calling: the new web tools must be direct.
	post_msg "$(mkreq hi "" | jq -c '.model = "claude-haiku-4-5" | .tools = [{type: "web_fetch_20260209", name: "web_fetch"}]')"
	[ "$STATUS" = 400 ]
	jq -e '.error.message | test("allowed_callers")' <<<"$BODY"
	post_msg "$(mkreq hi "" | jq -c '.model = "claude-haiku-4-5" | .tools = [{type: "web_fetch_20260209", name: "web_fetch", allowed_callers: ["direct"]},
		{type: "web_search_20250305", name: "web_search"}]')"
	[ "$STATUS" = 200 ]
}

@test "pause_turn: a \`\`\`pause\`\`\` ends a response on a pending server_tool_use; the continuation runs it" {
	local req r1 r2 c id
	req=$(mkreq $'```bash\necho one > one.txt\n```\n```pause```\n```bash\ncat one.txt; echo two\n```')
	post_msg "$req"
	r1=$BODY
	jq -e '.stop_reason == "pause_turn"
		and [.content[].type] == ["text", "server_tool_use", "bash_code_execution_tool_result", "server_tool_use"]
		and .content[3].input == {command: "cat one.txt; echo two"}
		and .usage.server_tool_use.code_execution_requests == 2' <<<"$r1"
	id=$(jq -r '.content[3].id' <<<"$r1")
	c=$(jq -r .container.id <<<"$r1")
	post_msg "$(jq -c --argjson r "$r1" --arg c "$c" '.container = $c | .messages += [{role: "assistant", content: $r.content}]' <<<"$req")"
	r2=$BODY
	jq -e --arg id "$id" '.stop_reason == "end_turn"
		and [.content[].type] == ["bash_code_execution_tool_result", "text"]
		and .content[0].tool_use_id == $id and .content[0].content.stdout == "one\ntwo\n"
		and .content[1].text == "Done: 2 step(s) ran; no files."' <<<"$r2"
	# Streamed, the pause is the same.
	post_msg "$(jq -c '.stream = true' <<<"$req")"
	sse_data "$T/body" | jq -s "$ASSEMBLE" | jq -e '.stop_reason == "pause_turn" and .content[-1].type == "server_tool_use"'
}

@test "pause_turn: a python step under 20250825 pauses on its create call; a pending call needs its tool" {
	local req r1 r2 c
	req=$(mkreq $'```pause```\n```python\nprint(6 * 7)\n```' code_execution_20250825)
	post_msg "$req"
	r1=$BODY
	jq -e '.stop_reason == "pause_turn" and [.content[].type] == ["text", "server_tool_use"]
		and .content[1].name == "text_editor_code_execution"' <<<"$r1"
	c=$(jq -r .container.id <<<"$r1")
	post_msg "$(jq -c --argjson r "$r1" --arg c "$c" '.container = $c | .messages += [{role: "assistant", content: $r.content}]' <<<"$req")"
	r2=$BODY
	jq -e --argjson r "$r1" '[.content[].type] == ["text_editor_code_execution_tool_result", "server_tool_use",
			"bash_code_execution_tool_result", "text"]
		and .content[0].tool_use_id == $r.content[1].id and .content[2].content.stdout == "42\n"' <<<"$r2"
	# A hand-made pending call (as the API may leave one) runs too.
	post_msg "$(mkreq $'```bash\necho ran\n```' | jq -c --arg c "$c" '.container = $c | .messages += [{role: "assistant", content: [
		{type: "server_tool_use", id: "srvtoolu_handmade", name: "bash_code_execution", input: {command: "echo ran"}}]}]')"
	jq -e '[.content[].type] == ["bash_code_execution_tool_result", "text"]
		and .content[0].tool_use_id == "srvtoolu_handmade" and .content[0].content.stdout == "ran\n"' <<<"$BODY"
	# Without the code execution tool the pending call cannot run.
	post_msg "$(mkreq hi "" | jq -c '.messages += [{role: "assistant", content: [
		{type: "server_tool_use", id: "srvtoolu_x", name: "bash_code_execution", input: {command: "true"}}]}]')"
	[ "$STATUS" = 400 ]
	jq -e '.error.message | test("no code_execution tool")' <<<"$BODY"
}

@test "http: a listen backlog of 1024; TCP_NODELAY and one write per small answer" {
	command -v ss >/dev/null || skip "ss is not installed"
	# For a listening socket, ss shows the backlog as Send-Q.
	[ "$(ss -Hltn "sport = :$(cat "$EMU_DIR/port")" | awk '{print $3}')" -ge 1024 ]
	command -v strace >/dev/null || skip "strace is not installed"
	strace -f -qq -e trace=setsockopt,write,sendto -s 4096 -o "$T/trace" \
		"$EMU_PY" "$EMU_SCRIPT" -D --port 0 --port-file "$T/p2" 2>/dev/null 3>&- &
	local pid=$! i
	for i in $(seq 600); do
		[ -s "$T/p2" ] && break
		sleep 0.05
	done
	[ -s "$T/p2" ] || skip "strace cannot trace here"
	curl -sS -o /dev/null "${CA_API_HEADERS[@]}" "http://127.0.0.1:$(cat "$T/p2")/v1/files"
	# strace does not pass SIGTERM on: stop the emulator it runs.
	kill -TERM "$(pgrep -P "$pid")"
	wait "$pid" || true
	grep -q 'TCP_NODELAY, \[1\]' "$T/trace"
	# The status line and the JSON body went out in the same write.
	grep -E '(write|sendto)\(.*"HTTP/1.1 200 OK\\r\\n.*\\r\\n\\r\\n\{\\"data\\"' "$T/trace"
}

# --- Newer request shapes ------------------------------------------------------

# skreq TEXT SKILLS-JSON: a request with container.skills.
skreq() {
	mkreq "$1" | jq -c --argjson s "$2" '.container = {skills: $s}'
}

@test "skills: container.skills is validated; a loaded xlsx skill leaves an .xlsx in the outputs" {
	post_msg "$(skreq $'```skill xlsx budget.xlsx```' '[{"type": "anthropic", "skill_id": "xlsx", "version": "latest"}]')"
	[ "$STATUS" = 200 ]
	jq -e '.container.skills == [{skill_id: "xlsx", type: "anthropic", version: "20251013"}]
		and .content[1].input.command == "python3 /skills/xlsx/make.py budget.xlsx"
		and .content[2].content.return_code == 0
		and (.content[2].content.content | length) == 1
		and .content[3].text == "Done: 1 step(s) ran; files: budget.xlsx."' <<<"$BODY"
	local fid c
	fid=$(jq -r '.content[2].content.content[0].file_id' <<<"$BODY")
	c=$(jq -r .container.id <<<"$BODY")
	apicall GET "/v1/files/$fid"
	jq -e '.filename == "budget.xlsx" and .downloadable == true' <<<"$BODY"
	apicall GET "/v1/files/$fid/content"
	[ "$STATUS" = 200 ]
	[ "$(head -c 2 "$T/body")" = PK ]
	# The next turn sends the id and the same skills.
	post_msg "$(skreq $'```skill xlsx q4.xlsx```' '[{"type": "anthropic", "skill_id": "xlsx"}]' | jq -c --arg c "$c" '.container.id = $c')"
	jq -e --arg c "$c" '.container.id == $c and .content[2].content.return_code == 0' <<<"$BODY"
	# A skill the request does not load cannot run.
	post_msg "$(mkreq $'```skill pptx deck.pptx```')"
	jq -e '.content[2].content.return_code == 2 and .content[2].content.content == []' <<<"$BODY"
	# Refused.
	local bad
	for bad in '[{"type": "other", "skill_id": "xlsx"}]' '[{"type": "anthropic"}]' \
		'[{"type": "anthropic", "skill_id": "xlsx", "version": ""}]' \
		'[{"type": "anthropic", "skill_id": "xlsx", "extra": 1}]' \
		'[{"type": "anthropic", "skill_id": "xlsx"}, {"type": "anthropic", "skill_id": "xlsx"}]' \
		"$(jq -nc '[range(9) | {type: "custom", skill_id: "skill_\(.)"}]')"; do
		post_msg "$(skreq hi "$bad")"
		[ "$STATUS" = 400 ] || { echo "accepted: $bad"; return 1; }
	done
	post_msg "$(skreq hi '[{"type": "anthropic", "skill_id": "xlsx"}]' | jq -c 'del(.tools)')"
	[ "$STATUS" = 400 ]
	post_msg "$(skreq hi '[{"type": "anthropic", "skill_id": "nosuch"}]')"
	[ "$STATUS" = 404 ]
}

@test "web tools: canned search results and fetched pages from the script; filters, max_uses, errors, usage" {
	local req
	req=$(mkreq $'```web_search rust release\nhttps://blog.rust-lang.org/1.90 | Rust 1.90\nhttps://docs.evil.example/x | Evil\n```\n```web_fetch https://blog.rust-lang.org/1.90\nRust 1.90 is out.\n```\n```web_search second```' "" |
		jq -c '.tools = [{type: "web_search_20250305", name: "web_search", max_uses: 1, blocked_domains: ["evil.example"]},
			{type: "web_fetch_20250910", name: "web_fetch", citations: {enabled: true}}]')
	post_msg "$req"
	[ "$STATUS" = 200 ]
	jq -e '[.content[].type] == ["text", "server_tool_use", "web_search_tool_result", "server_tool_use",
			"web_fetch_tool_result", "server_tool_use", "web_search_tool_result", "text"]
		and .content[1] == {type: "server_tool_use", id: .content[1].id, name: "web_search",
			input: {query: "rust release"}, caller: {type: "direct"}}
		and .content[2].tool_use_id == .content[1].id
		and [.content[2].content[] | {url, title, page_age}] == [{url: "https://blog.rust-lang.org/1.90", title: "Rust 1.90", page_age: null}]
		and (.content[2].content[0].encrypted_content | length > 0)
		and .content[3].input == {url: "https://blog.rust-lang.org/1.90"}
		and .content[4].content.type == "web_fetch_result"
		and .content[4].content.content == {type: "document", title: "https://blog.rust-lang.org/1.90",
			citations: {enabled: true}, source: {type: "text", media_type: "text/plain", data: "Rust 1.90 is out."}}
		and .content[6].content == {type: "web_search_tool_result_error", error_code: "max_uses_exceeded"}
		and .container == null
		and .usage.server_tool_use == {web_search_requests: 2, web_fetch_requests: 1, code_execution_requests: 0}' <<<"$BODY"
	# An allowed_domains list stops a fetch elsewhere; "!code" makes an error.
	post_msg "$(mkreq $'```web_fetch https://other.example/\n```\n```web_search !unavailable```' "" |
		jq -c '.tools = [{type: "web_fetch_20260209", name: "web_fetch", allowed_domains: ["rust-lang.org"]},
			{type: "web_search_20260209", name: "web_search"}]')"
	jq -e '.content[2].content == {type: "web_fetch_tool_result_error", error_code: "url_not_allowed"}
		and .content[4].content == {type: "web_search_tool_result_error", error_code: "unavailable"}' <<<"$BODY"
	# Without the tool, the directive is not a step.
	post_msg "$(mkreq $'```web_search x```' "")"
	jq -e '.content[0].text | startswith("No code to run in")' <<<"$BODY"
}

# mcpreq TEXT [TOOLSET-JSON]: a request with one MCP server, "demo".
mcpreq() {
	mkreq "$1" "" | jq -c --argjson ts "${2-{\}}" '.mcp_servers = [{type: "url", url: "https://mcp.example/sse",
		name: "demo", authorization_token: "mcp-token-SECRET-42"}]
		| .tools = [{type: "mcp_toolset", mcp_server_name: "demo"} + $ts]'
}

@test "mcp: mcp_servers need the beta and one toolset each; the script's calls give mcp_tool_use/mcp_tool_result" {
	local b='anthropic-beta: mcp-client-2025-11-20'
	post_msg "$(mcpreq $'```mcp demo echo\n{"text": "hi"}\n---\nhi back\n```\n```mcp demo secret```' \
		'{"configs": {"secret": {"enabled": false}}}')" -H "$b"
	[ "$STATUS" = 200 ]
	jq -e '[.content[].type] == ["text", "mcp_tool_use", "mcp_tool_result", "mcp_tool_use", "mcp_tool_result", "text"]
		and .content[1].name == "echo" and .content[1].server_name == "demo" and .content[1].input == {text: "hi"}
		and (.content[1].id | startswith("mcptoolu_"))
		and .content[2] == {type: "mcp_tool_result", tool_use_id: .content[1].id, is_error: false,
			content: [{type: "text", text: "hi back"}]}
		and .content[4].is_error == true' <<<"$BODY"
	# The token is a secret: never in the log.
	[ "$(grep -c 'mcp-token-SECRET-42' "$EMU_LOG")" -eq 0 ]
	jq -se '.[0].body.mcp_servers[0].authorization_token == "***" and .[0].key_elsewhere == false' "$EMU_LOG"
	# Streamed, mcp_tool_use input arrives as input_json_delta.
	post_msg "$(mcpreq $'```mcp demo echo\n{"n": 1}\n```' | jq -c '.stream = true')" -H "$b"
	sse_data "$T/body" | jq -s "$ASSEMBLE" | jq -e '.content[1].type == "mcp_tool_use"' >/dev/null
	sse_data "$T/body" | jq -se '[.[] | select(.type == "content_block_delta") | .delta.partial_json // empty] | join("") == "{\"n\": 1}"'
	# Refused: no beta, a server with no toolset, a toolset with no server,
	# a plain-http URL, two toolsets for one server.
	post_msg "$(mcpreq hi)"
	[ "$STATUS" = 400 ]
	post_msg "$(mcpreq hi | jq -c '.tools = []')" -H "$b"
	[ "$STATUS" = 400 ]
	post_msg "$(mcpreq hi | jq -c 'del(.mcp_servers)')" -H "$b"
	[ "$STATUS" = 400 ]
	post_msg "$(mcpreq hi | jq -c '.mcp_servers[0].url = "http://mcp.example/"')" -H "$b"
	[ "$STATUS" = 400 ]
	post_msg "$(mcpreq hi | jq -c '.tools += .tools')" -H "$b"
	[ "$STATUS" = 400 ]
}

@test "structured output: the answer is JSON that fits output_config.format's schema" {
	local schema
	schema='{"type": "object", "additionalProperties": false, "required": ["name", "tags"],
		"properties": {"age": {"type": "integer"}, "name": {"type": "string"},
			"email": {"type": "string", "format": "email"}, "score": {"type": "number"},
			"ok": {"type": "boolean"}, "kind": {"enum": ["a", "b"]},
			"tags": {"type": "array", "items": {"type": "string"}},
			"addr": {"type": "object", "additionalProperties": false, "properties": {"city": {"type": "string"}}}}}'
	post_msg "$(mkreq 'Extract: Jane' "" | jq -c --argjson s "$schema" '.output_config = {effort: "low", format: {type: "json_schema", schema: $s}}')"
	[ "$STATUS" = 200 ]
	jq -e '.stop_reason == "end_turn" and (.content | length) == 1 and .content[0].type == "text"' <<<"$BODY"
	jq -r '.content[0].text' <<<"$BODY" | jq -e '(keys_unsorted[:2] == ["name", "tags"])
		and (.name | type) == "string" and (.tags | type) == "array" and (.tags[0] | type) == "string"
		and (.age | type) == "number" and (.age | floor) == .age and (.score | type) == "number"
		and (.ok | type) == "boolean" and .kind == "a" and (.email | test("@"))
		and (.addr.city | type) == "string"'
	# With code steps, the only text is the JSON (the SDK parses every text block).
	post_msg "$(mkreq $'```bash\ntrue\n```' | jq -c --argjson s "$schema" '.output_config = {format: {type: "json_schema", schema: $s}}')"
	jq -e '[.content[] | select(.type == "text") | .text | fromjson | has("name")] == [true]' <<<"$BODY"
	# Unsupported schema features and a wrong format type are 400.
	post_msg "$(mkreq hi "" | jq -c '.output_config = {format: {type: "json_schema", schema: {type: "object", properties: {n: {type: "integer", minimum: 1}}, additionalProperties: false}}}')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi "" | jq -c '.output_config = {format: {type: "json_schema", schema: {type: "object", properties: {}}}}')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi "" | jq -c '.output_config = {format: {type: "json", schema: {}}}')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi "" | jq -c '.output_config = {effort: "extreme"}')"
	[ "$STATUS" = 400 ]
}

@test "cache: the first request writes the prefix, an identical prefix later reads it" {
	local req
	req=$(mkreq "cache me $RANDOM$RANDOM" "" | jq -c '.system = [{type: "text", text: "long static instructions", cache_control: {type: "ephemeral", ttl: "1h"}}]')
	post_msg "$req"
	jq -e '.usage.cache_creation_input_tokens > 0 and .usage.cache_read_input_tokens == 0
		and .usage.cache_creation.ephemeral_1h_input_tokens == .usage.cache_creation_input_tokens
		and .usage.cache_creation.ephemeral_5m_input_tokens == 0' <<<"$BODY"
	local w
	w=$(jq .usage.cache_creation_input_tokens <<<"$BODY")
	# Same system, another question: the system prefix is read.
	post_msg "$(jq -c '.messages[0].content = "another question"' <<<"$req")"
	jq -e --argjson w "$w" '.usage.cache_read_input_tokens == $w and .usage.cache_creation_input_tokens == 0' <<<"$BODY"
	# Top-level cache_control caches up to the last block: written once, then read.
	post_msg "$(jq -c '.cache_control = {type: "ephemeral"}' <<<"$req")"
	jq -e --argjson w "$w" '.usage.cache_read_input_tokens == $w and .usage.cache_creation_input_tokens > 0
		and .usage.cache_creation.ephemeral_5m_input_tokens == .usage.cache_creation_input_tokens' <<<"$BODY"
	post_msg "$(jq -c '.cache_control = {type: "ephemeral"}' <<<"$req")"
	jq -e --argjson w "$w" '.usage.cache_read_input_tokens > $w and .usage.cache_creation_input_tokens == 0' <<<"$BODY"
	# Without cache_control nothing is cached.
	post_msg "$(mkreq hi "")"
	jq -e '.usage.cache_creation_input_tokens == 0 and .usage.cache_read_input_tokens == 0' <<<"$BODY"
	# More than 4 breakpoints is 400.
	post_msg "$(mkreq hi "" | jq -c '.system = [range(5) | {type: "text", text: "s\(.)", cache_control: {type: "ephemeral"}}]')"
	[ "$STATUS" = 400 ]
	# A reset forgets the cache.
	curl -sS -f -X POST "$EMU/_emu/reset" >/dev/null
	post_msg "$req"
	jq -e --argjson w "$w" '.usage.cache_creation_input_tokens == $w and .usage.cache_read_input_tokens == 0' <<<"$BODY"
}

@test "thinking: signed thinking blocks; an altered one is 400; streamed with signature_delta" {
	local req r
	req=$(mkreq $'```bash\necho hi\n```' | jq -c '.thinking = {type: "adaptive", display: "summarized"}')
	post_msg "$req"
	[ "$STATUS" = 200 ]
	r=$BODY
	jq -e '.content[0].type == "thinking" and (.content[0].thinking | length > 0)
		and (.content[0].signature | length > 0) and .usage.output_tokens_details.thinking_tokens > 0' <<<"$r"
	local next
	next() { jq -c --argjson r "$r" --arg c "$(jq -r .container.id <<<"$r")" \
		".container = \$c | .messages += [{role: \"assistant\", content: (\$r.content | $1)}, {role: \"user\", content: \"and then?\"}]" <<<"$req"; }
	post_msg "$(next .)"
	[ "$STATUS" = 200 ] || { echo "$BODY"; return 1; }
	post_msg "$(next '.[0].thinking += " (edited)"')"
	[ "$STATUS" = 400 ]
	jq -e '.error.type == "invalid_request_error" and (.error.message | test("signature"))' <<<"$BODY"
	post_msg "$(next '.[0].signature = "AAAA"')"
	[ "$STATUS" = 400 ]
	# display omitted: empty text, still signed.
	post_msg "$(mkreq hi "" | jq -c '.thinking = {type: "adaptive", display: "omitted"}')"
	jq -e '.content[0] | .type == "thinking" and .thinking == "" and (.signature | length > 0)' <<<"$BODY"
	# Streamed: thinking_delta pieces, then one signature_delta.
	post_msg "$(jq -c '.stream = true' <<<"$req")"
	sse_data "$T/body" | jq -se '[.[] | select(.index == 0 and .type == "content_block_delta") | .delta.type]
		| .[-1] == "signature_delta" and (.[:-1] | unique) == ["thinking_delta"]'
	# thinking.type "enabled" needs budget_tokens, and 4.7+ models refuse it.
	post_msg "$(mkreq hi "" | jq -c '.thinking = {type: "enabled", budget_tokens: 1024} | .max_tokens = 2048 | .model = "claude-sonnet-4-6"')"
	[ "$STATUS" = 200 ]
	post_msg "$(mkreq hi "" | jq -c '.thinking = {type: "enabled", budget_tokens: 1024} | .max_tokens = 2048')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi "" | jq -c '.thinking = {type: "enabled", budget_tokens: 100} | .model = "claude-sonnet-4-6"')"
	[ "$STATUS" = 400 ]
	post_msg "$(mkreq hi "" | jq -c '.thinking = {type: "sometimes"}')"
	[ "$STATUS" = 400 ]
}

@test "count_tokens: the messages validation minus max_tokens; no container, stream or metadata" {
	local ok='{"model": "claude-opus-5-5", "messages": [{"role": "user", "content": "hello"}],
		"tools": [{"type": "web_search_20260318", "name": "web_search"}], "system": "s",
		"thinking": {"type": "adaptive"}, "cache_control": {"type": "ephemeral"}}'
	apicall POST /v1/messages/count_tokens --data-binary "$ok"
	[ "$STATUS" = 200 ]
	jq -e '.input_tokens > 0 and keys == ["input_tokens"]' <<<"$BODY"
	local f
	for f in '{"container": "container_x"}' '{"stream": true}' '{"metadata": {}}' \
		'{"tools": [{"type": "code_execution_20260521", "name": "code_execution", "x": 1}]}'; do
		apicall POST /v1/messages/count_tokens --data-binary "$(jq -c --argjson f "$f" '. + $f' <<<"$ok")"
		[ "$STATUS" = 400 ] || { echo "accepted: $f"; return 1; }
	done
	apicall POST /v1/messages/count_tokens -H 'anthropic-beta: mcp-client-2025-11-20' --data-binary "$(jq -c '.mcp_servers = [{type: "url", url: "https://m.example/", name: "m"}]
		| .tools += [{type: "mcp_toolset", mcp_server_name: "m"}]' <<<"$ok")"
	[ "$STATUS" = 200 ]
}
