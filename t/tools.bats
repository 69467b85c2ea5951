#!/usr/bin/env bats
# Client tools: declared with ca-request --client-tool, answered by
# ca-exec, called directly by the model or from the container's code.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# A tool file: tool NAME SCRIPT [extra JSON fields]
tool() {
	local name=$1 script=$2 extra=${3:-'{}'}
	printf '#!/bin/sh\n%s\n' "$script" >"$name.sh"
	chmod +x "$name.sh"
	jq -n --arg n "$name" --arg c "$PWD/$name.sh" --argjson x "$extra" \
		'{name: $n, description: "test tool", input_schema: {type: "object"},
		  command: [$c]} + $x' >"$name.json"
}

fence='```'

@test "--client-tool puts the API's part in params.tools and the command beside params" {
	tool echo 'cat'
	ca-request -n -i r1 --client-tool echo.json hi >req
	json_eq "$(jq -c '.params.tools[1]' req)" \
		'{"name":"echo","description":"test tool","input_schema":{"type":"object"},"allowed_callers":["direct","code_execution_20260521"]}'
	[ "$(jq -r '.client_tools[0].command[0]' req)" = "$PWD/echo.sh" ]
	[ "$(jq -r '.client_tools[0].timeout' req)" = 60 ]
	# Nothing local goes to the API.
	ca-exec --client-tool echo.json <req >/dev/null
	refute grep -q 'echo.sh' "$EMU_DIR/log.ndjson"
}

@test "a model without programmatic calling gets direct calls; callers code is refused" {
	tool echo 'cat'
	ca-request -n -m claude-haiku-4-5 --client-tool echo.json hi >req
	json_eq "$(jq -c '.params.tools[1].allowed_callers' req)" '["direct"]'
	tool echo2 'cat' '{"callers":["code"]}'
	run ca-request -n -m claude-haiku-4-5 --client-tool echo2.json hi
	[ "$status" -eq 2 ]
	[[ "$output" == *"echo2.json: callers"* ]]
	run ca-request -n -T code_execution_20250825 --client-tool echo2.json hi
	[ "$status" -eq 2 ]
}

@test "a bad tool file is a usage error naming the file and the field" {
	echo '{' >bad1.json
	echo '{"input_schema":{"type":"object"},"command":["cat"]}' >bad2.json
	echo '{"name":"x","input_schema":{"type":"array"},"command":["cat"]}' >bad3.json
	echo '{"name":"x","input_schema":{"type":"object"},"command":"cat file"}' >bad4.json
	echo '{"name":"x","input_schema":{"type":"object"},"command":["./nope"]}' >bad5.json
	for f in 1:'not a JSON object' 2:name 3:input_schema 4:command 5:command; do
		run ca-request -n --client-tool "bad${f%%:*}.json" hi
		[ "$status" -eq 2 ]
		[[ "$output" == *"bad${f%%:*}.json: ${f#*:}"* ]]
		run ca-exec --client-tool "bad${f%%:*}.json" </dev/null
		[ "$status" -eq 2 ]
	done
}

@test "a direct call runs the command with the input on stdin; the result goes back" {
	tool lookup 'printf "got: "; cat'
	ca-request -n -i r1 --client-tool lookup.json "$fence tool lookup
{\"key\": \"a b\"}
$fence" >req
	run --separate-stderr ca-exec --client-tool lookup.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' <<<"$output" | paste -sd,)" = tool_use,end_turn ]
	call=$(jq -c 'select(.type == "tool_call")' <<<"$output")
	[ "$(jq -r '[.name, .caller, .exit, .is_error, .bytes] | join(" ")' <<<"$call")" = "lookup direct 0 false 18" ]
	json_eq "$(jq -c .input <<<"$call")" '{"key":"a b"}'
	# The record order: request, response, tool_call, response.
	[ "$(jq -r .type <<<"$output" | paste -sd,)" = request,response,tool_call,response ]
	# The continuation the emulator received: a user message of only
	# the result, the same tools, the container.
	second=$(emu_log /v1/messages | sed -n 2p)
	[ "$(jq -r '.body.messages[-1].content[0].content' <<<"$second")" = 'got: {"key":"a b"}' ]
	[ "$(jq -r '.body.messages[-1].content | map(.type) | join(",")' <<<"$second")" = tool_result ]
	[ "$(jq -r '.body.messages[-2].role' <<<"$second")" = assistant ]
	json_eq "$(jq -c .body.tools <<<"$second")" "$(jq -c .params.tools req)"
	[[ "$(jq -r .body.container <<<"$second")" == container_* ]]
	jq -r 'select(.type == "response" and .part == 2) | .message.content[0].text' <<<"$output" | grep -q 'lookup returned: got: {"key":"a b"}'
}

@test "code in the container calls the tool in a loop and prints the results (PTC)" {
	tool square 'python3 -c "import json,sys; print(json.load(sys.stdin)[\"n\"] ** 2)"'
	ca-request -n -i r1 --client-tool square.json "$fence python
total = 0
for n in range(1, 4):
    total += int(await square({'n': n}))
print('sum of squares', total)
$fence" >req
	run --separate-stderr ca-exec --client-tool square.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "tool_call") | "\(.caller) \(.input.n)"' <<<"$output" | paste -sd,)" = \
		"code_execution_20260120 1,code_execution_20260120 2,code_execution_20260120 3" ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' <<<"$output" | paste -sd,)" = tool_use,tool_use,tool_use,end_turn ]
	[ "$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' <<<"$output")" = "sum of squares 14" ]
	# Every continuation names the container and holds only results.
	emu_log /v1/messages | sed -n '2,$p' | jq -r '[.body.container, (.body.messages[-1].content | map(.type) | unique | join(","))] | join(" ")' |
		while read -r c t; do [[ $c == container_* ]] && [ "$t" = tool_result ]; done
}

@test "concurrent calls (asyncio.gather) go out in one pause and back in one message" {
	# Each waits until all three have started: run one after the
	# other, the first would wait until its timeout.
	tool slow "cat >/dev/null; echo x >>'$PWD/started'
while [ \$(wc -l <'$PWD/started') -lt 3 ]; do sleep 0.05; done; printf done" '{"timeout": 60}'
	ca-request -n -i r1 --client-tool slow.json "$fence python
import asyncio
r = await asyncio.gather(slow({'i': 1}), slow({'i': 2}), slow({'i': 3}))
print(r)
$fence" >req
	run --separate-stderr ca-exec --client-tool slow.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "tool_call") | .part' <<<"$output" | paste -sd,)" = 1,1,1 ]
	[ "$(emu_log /v1/messages | sed -n 2p | jq '.body.messages[-1].content | length')" = 3 ]
	[ "$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' <<<"$output")" = "['done', 'done', 'done']" ]
}

@test "an error exit, a timeout and a flood are answered as such; the run goes on" {
	tool fails 'cat >/dev/null; echo "no such row" >&2; exit 3'
	tool hangs 'sleep 300 & echo $! >bg.pid; wait' '{"timeout":0.5}'
	tool floods 'head -c 5000 /dev/zero | tr "\0" x; printf "\377\n"' '{"max_output":100}'
	ca-request -n -i r1 --client-tool fails.json --client-tool hangs.json --client-tool floods.json "$fence tool fails
{}
$fence
$fence tool hangs
{}
$fence
$fence tool floods
{}
$fence" >req
	run --separate-stderr ca-exec --client-tool fails.json --client-tool hangs.json --client-tool floods.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "tool_call") | "\(.name) \(.exit) \(.timed_out) \(.truncated) \(.is_error)"' <<<"$output" | paste -sd,)" = \
		"fails 3 false false true,hangs 137 true false true,floods 0 false true false" ]
	[ "$(jq -r 'select(.type == "tool_call" and .name == "fails") | .error' <<<"$output")" = "exit status 3: no such row" ]
	res=$(emu_log /v1/messages | sed -n 2p | jq -c '.body.messages[-1].content')
	[ "$(jq -r '.[0].is_error' <<<"$res")" = true ]
	[ "$(jq -r '.[1].content' <<<"$res")" = "Error: timed out after 0.5 s; killed" ]
	[[ "$(jq -r '.[2].content' <<<"$res")" == "$(printf 'x%.0s' $(seq 100))"$'\n[cut: the tool printed 5002 bytes; the first 100 are kept]' ]]
	# The hung tool's process group is gone, its child too.
	[ -s bg.pid ]
	st=$(ps -o stat= -p "$(cat bg.pid)" || true)
	[ -z "$st" ] || [[ $st == Z* ]]
}

@test "streaming: the loop works on a stream too" {
	tool lookup 'cat'
	ca-request -n -i r1 --client-tool lookup.json "$fence tool lookup
{\"k\": 1}
$fence" >req
	run --separate-stderr ca-exec -s --client-tool lookup.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' <<<"$output" | paste -sd,)" = tool_use,end_turn ]
	[ "$(jq -r 'select(.type == "tool_call") | .input.k' <<<"$output")" = 1 ]
}

@test "a tool that leaves a child holding its output is answered when it exits; the child is killed" {
	tool bg 'cat >/dev/null; echo hi; sleep 300 & echo $! >bg.pid' '{"timeout": 200}'
	ca-request -n -i r1 --client-tool bg.json "$fence tool bg
{}
$fence" >req
	ca-exec --client-tool bg.json <req >out
	[ "$(jq -r 'select(.type == "tool_call") | "\(.timed_out) \(.exit) \(.result)"' out)" = "false 0 hi" ]
	st=$(ps -o stat= -p "$(cat bg.pid)" || true)
	[ -z "$st" ] || [[ $st == Z* ]]
}

@test "invalid UTF-8 from a tool is sanitised" {
	tool bytes 'cat >/dev/null; printf "a\377b\000c"'
	ca-request -n -i r1 --client-tool bytes.json "$fence tool bytes
{}
$fence" >req
	ca-exec --client-tool bytes.json <req >out
	[ "$(emu_log /v1/messages | sed -n 2p | jq -r '.body.messages[-1].content[0].content')" = "a�b�c" ]
}

@test "the command's environment has no key and no API variables" {
	tool env 'cat >/dev/null; env'
	ca-request -n -i r1 --client-tool env.json "$fence tool env
{}
$fence" >req
	MCP_TOKEN=secret-mcp ANTHROPIC_EXTRA=x ca-exec --client-tool env.json <req >out
	res=$(emu_log /v1/messages | sed -n 2p | jq -r '.body.messages[-1].content[0].content')
	[[ "$res" == *PATH=* ]]
	refute grep -q "$CA_TEST_KEY" <<<"$res"
	refute grep -q -e ANTHROPIC -e secret-mcp <<<"$res"
}

@test "a hostile record's command is never run; an undeclared tool is refused" {
	tool safe 'cat'
	ca-request -n -i r1 --client-tool safe.json "$fence tool safe
{}
$fence" >req
	# The record swaps in another command: ca-exec runs only its own.
	jq -c --arg m "$PWD/pwned" '.client_tools[0].command = ["touch", $m]' req >evil
	run --separate-stderr ca-exec --client-tool safe.json <evil
	[ ! -e pwned ]
	[[ "$(jq -r 'select(.type == "tool_call") | .error' <<<"$output")" == *"not the one in ca-exec's --client-tool"* ]]
	# Without --client-tool, nothing the record names runs.
	run --separate-stderr ca-exec <evil
	[ ! -e pwned ]
	[[ "$(jq -r 'select(.type == "tool_call") | .error' <<<"$output")" == *"was not given --client-tool for safe"* ]]
	[ "$(jq -r 'select(.type == "tool_call") | .ran' <<<"$output")" = false ]
}

@test "--max-tool-calls bounds the loop" {
	tool sq 'echo 1'
	ca-request -n -i r1 --client-tool sq.json "$fence python
for n in range(5):
    await sq({'n': n})
$fence" >req
	run --separate-stderr ca-exec --client-tool sq.json --max-tool-calls 2 <req
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "tool_call") | .input.n' <<<"$output" | paste -sd,)" = 0,1 ]
	[ "$(jq -r 'select(.type == "error") | .error.type' <<<"$output")" = tool_call_limit ]
}

@test "the emulator refuses what the API refuses in a continuation" {
	tool sq 'echo 1'
	ca-request -n -i r1 --client-tool sq.json "$fence python
print(await sq({}))
$fence" >req
	ca-exec --client-tool sq.json --max-tool-calls 0 <req >out || true
	body=$(emu_log /v1/messages | sed -n 1p | jq -c .body)
	paused=$(jq -c 'select(.type == "response") | .message' out)
	use=$(jq -r '.content[] | select(.type == "tool_use") | .id' <<<"$paused")
	cid=$(jq -r .container.id <<<"$paused")
	post() { curl -s -H "x-api-key: $CA_TEST_KEY" -H 'anthropic-version: 2023-06-01' \
		-H 'content-type: application/json' --data-binary @- "$EMU_URL/v1/messages"; }
	cont() { jq -c --argjson p "$paused" --arg c "$cid" --argjson r "$1" \
		'.messages += [{role: "assistant", content: $p.content}, {role: "user", content: $r}] | .container = $c' <<<"$body"; }
	ok="[{\"type\":\"tool_result\",\"tool_use_id\":\"$use\",\"content\":\"7\"}]"
	# Text beside the results, an unknown id, no container, another container.
	cont "[{\"type\":\"tool_result\",\"tool_use_id\":\"$use\",\"content\":\"7\"},{\"type\":\"text\",\"text\":\"hi\"}]" | post | jq -e '.error.message | test("only tool_result")'
	cont '[{"type":"tool_result","tool_use_id":"toolu_bogus","content":"7"}]' | post | jq -e '.error.message | test("without tool_result")'
	cont "$ok" | jq -c 'del(.container)' | post | jq -e '.error.message | test("container")'
	other=$(curl -s -H "x-api-key: $CA_TEST_KEY" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
		--data-binary "$(jq -c '.messages = [{role: "user", content: "x"}]' <<<"$body")" "$EMU_URL/v1/messages" | jq -r .container.id)
	cont "$ok" | jq -c --arg o "$other" '.container = $o' | post | jq -e '.error.message | test("belongs to container")'
	# The right one completes, and uses the answer.
	cont "$ok" | post | jq -e '.content[] | select(.type == "code_execution_tool_result") | .content.stdout == "7\n"'
}

@test "a call answered after the pending-call limit raises TimeoutError in the code" {
	emu_config '{"ptc_timeout_s": 0}'
	tool sq 'echo 1'
	ca-request -n -i r1 --client-tool sq.json "$fence python
try:
    print(await sq({}))
except TimeoutError as e:
    print('timeout:', e)
$fence" >req
	run --separate-stderr ca-exec --client-tool sq.json <req
	[ "$status" -eq 0 ]
	[[ "$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' <<<"$output")" == "timeout: Calling tool ['sq'] timed out"* ]]
}

@test "ca-render shows each call and a preview of its result, in text, markdown and HTML" {
	tool lookup 'printf "row <1>\nrow 2\n"'
	tool broken 'exit 4'
	ca-request -n -i r1 --client-tool lookup.json --client-tool broken.json "$fence tool lookup
{\"k\": 1}
$fence
$fence tool broken
{}
$fence" >req
	ca-exec --client-tool lookup.json --client-tool broken.json <req >out
	[ "$(jq -r 'select(.type == "tool_call" and .name == "lookup") | .result' out)" = $'row <1>\nrow 2' ]
	ca-render -C never <out >text
	grep -q '^tool call lookup$' text
	grep -q '^tool result lookup (direct call): exit 0, [0-9]* ms, 14 bytes$' text
	grep -q '^  row <1>$' text
	grep -q '^tool result broken (direct call): exit 4' text
	grep -q 'exit status 4' text
	refute grep -q 'unknown record' text
	# One turn, its parts together.
	[ "$(grep -c '^─ Summary of turn' text)" = 1 ]
	ca-render -f markdown <out | grep -q '^tool result `lookup` (direct call): exit 0'
	ca-render -f html <out | grep -q '<p class="note ok">tool result <code>lookup</code> (direct call)'
	ca-render -f html <out | grep -q 'row &lt;1&gt;'
	ca-render -f html <out | grep -q '<p class="note err">tool result <code>broken</code>'
}

@test "the sales database example: the code queries sqlite3 through the tool, the chart comes back through ca-fetch" {
	command -v sqlite3
	db=$CA_ROOT/demo/sales-db.json
	ca-request --client-tool "$db" -f "$CA_ROOT/demo/sales-db.md" |
		ca-exec --client-tool "$db" | ca-fetch -d out >out.ndjson
	# Five queries, all from the code, all answered by sqlite3.
	[ "$(jq -r 'select(.type == "tool_call") | "\(.caller) \(.exit)"' out.ndjson | sort | uniq -c | tr -s ' ')" = \
		" 5 code_execution_20260120 0" ]
	jq -r 'select(.type == "tool_call") | .result' out.ndjson | head -1 | grep -q '"region":"east","total":1957333'
	grep -q '<rect x="60" y="10" width="320"' out/revenue_by_region.svg
	[ "$(grep -c '<rect' out/revenue_by_region.svg)" = 4 ]
	jq -r 'select(.type == "response") | .message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' out.ndjson |
		grep -q 'east:  1,957,333 (best month 2026-12)'
}

@test "--continue keeps the tools and replays the calls and their results as history" {
	tool sq 'python3 -c "import json,sys; print(json.load(sys.stdin)[\"n\"] * 10)"'
	ca-request -n -i r1 --client-tool sq.json "$fence python
print(await sq({'n': 4}))
$fence" | ca-exec --client-tool sq.json >t1
	ca-request -C -i r2 "$fence tool sq
{\"n\": 5}
$fence" <t1 >req2
	# The tools, and their local part, come along.
	json_eq "$(jq -c '.params.tools | sort_by(.name)' req2)" "$(jq -c 'select(.type == "request") | .params.tools | sort_by(.name)' t1)"
	[ "$(jq -r '.client_tools[0].name' req2)" = sq ]
	# History: prompt, the paused turn, the results, the rest, the new prompt.
	[ "$(jq -r '[.params.messages[] | .role + ":" + (if (.content | type) == "string" then "text" else (.content | map(.type) | unique | join("+")) end)] | join(" ")' req2)" = \
		"user:text assistant:server_tool_use+text+tool_use user:tool_result assistant:code_execution_tool_result+text user:text" ]
	[ "$(jq -r '.params.messages[2].content[0].content' req2)" = 40 ]
	run --separate-stderr ca-exec --client-tool sq.json <req2
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "tool_call") | .result' <<<"$output")" = 50 ]
}

@test "ca-chat --client-tool: every turn declares the tool and answers its calls" {
	tool sq 'python3 -c "import json,sys; print(json.load(sys.stdin)[\"n\"] + 1)"'
	run --separate-stderr ca-chat -t s.ndjson --client-tool sq.json <<<"\"\"\"
$fence tool sq
{\"n\": 1}
$fence
\"\"\"
\"\"\"
$fence python
print(await sq({'n': 2}))
$fence
\"\"\""
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "tool_call") | "\(.caller) \(.result | rtrimstr("\n"))"' s.ndjson | paste -sd,)" = \
		"direct 2,code_execution_20260120 3" ]
}

@test "--count counts a request with client tools" {
	tool sq 'echo 1'
	ca-request -n -i r1 --client-tool sq.json hi >req
	run --separate-stderr ca-exec --count --client-tool sq.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "count") | .input_tokens > 0' <<<"$output")" = true ]
	json_eq "$(emu_log /v1/messages/count_tokens | jq -c .body.tools)" "$(jq -c .params.tools req)"
}

@test "ca-batch answers direct calls and submits the follow-up batch" {
	tool lookup 'printf "got "; cat' '{"callers":["direct"]}'
	ca-request -n -i b1 --client-tool lookup.json "$fence tool lookup
{\"k\": 7}
$fence" >req
	run --separate-stderr ca-batch --poll 0.1 --client-tool lookup.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type != "batch") | .type' <<<"$output" | paste -sd,)" = request,response,tool_call,response ]
	[ "$(jq -r 'select(.type == "tool_call") | .result' <<<"$output")" = 'got {"k":7}' ]
	# Two batches: the second holds the follow-up, ending on the results.
	creates=$(emu_log /v1/messages/batches | jq -c 'select(.method == "POST" and .path == "/v1/messages/batches")')
	[ "$(wc -l <<<"$creates")" = 2 ]
	last=$(sed -n 2p <<<"$creates" | jq -c '.body.requests[0].params')
	[ "$(jq -r '.messages[-1].content[0].type' <<<"$last")" = tool_result ]
	[ "$(jq -r '.messages[-1].content[0].content' <<<"$last")" = 'got {"k":7}' ]
	[[ "$(jq -r .container <<<"$last")" == container_* ]]
	jq -r 'select(.type == "response" and .part == 2) | .message.content[0].text' <<<"$output" | grep -q 'lookup returned: got'
}

@test "ca-batch refuses a tool that code may call, saying why" {
	tool sq 'echo 1'
	ca-request -n -i b1 --client-tool sq.json hi >req
	run --separate-stderr ca-batch --client-tool sq.json <req
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"programmatic tool calling) cannot wait for a batch"* ]]
	[ "$(emu_log /v1/messages/batches | wc -l)" = 0 ]
}

@test "ca-batch --sync-continue answers the calls and sends the follow-up as a Messages call" {
	tool lookup 'cat' '{"callers":["direct"]}'
	ca-request -n -i b1 --client-tool lookup.json "$fence tool lookup
{\"k\": 8}
$fence" >req
	run --separate-stderr ca-batch --poll 0.1 --sync-continue --client-tool lookup.json <req
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type != "batch") | .type' <<<"$output" | paste -sd,)" = request,response,tool_call,response ]
	[ "$(emu_log /v1/messages | jq -r '.body.messages[-1].content[0].content')" = '{"k":8}' ]
}

@test "a call for a tool the request does not declare is answered with an error, never run" {
	tool lookup 'cat'
	tool other "touch '$PWD/ran'"
	ca-request -n -i r1 --client-tool lookup.json "$fence tool lookup
{}
$fence" >req
	ca-exec --client-tool lookup.json <req >rec
	# The recorded answer, made to call a tool the request never declared.
	jq -c 'if .type == "response" and .part == 1 then .message.content |= map(if .type == "tool_use" then .name = "other" else . end) else . end' rec >edited
	ca-emu -d emu2 --replay edited -- sh -c 'ca-exec --client-tool lookup.json --client-tool other.json <req >out' || true
	[ ! -e ran ]
	[ "$(jq -r 'select(.type == "tool_call") | "\(.name) \(.ran) \(.error)"' out)" = \
		"other false tool other is not declared in this request" ]
}

@test "--max-cost counts every part: the continuation after the calls is not sent past the cap" {
	tool lookup 'cat'
	ca-request -n -i r1 --client-tool lookup.json "$fence tool lookup
{}
$fence" >req
	run --separate-stderr ca-exec --client-tool lookup.json --max-cost 0.000001 <req
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "error") | "\(.part) \(.error.type)"' <<<"$output")" = "2 budget_exceeded" ]
	[ "$(emu_log /v1/messages | wc -l)" = 1 ]
}
