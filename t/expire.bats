#!/usr/bin/env bats
# Containers that expire under a long conversation: ca-exec sends the
# turn again without the container, the uploads with it.

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
	printf 'a,b\n1,2\n' >data.csv
	export CA_CHAT_RLWRAP=1
}

CAT='show it
```bash
cat data.csv
```'

# expire CID ANSWER: the emulator expires the container and answers so.
expire() {
	curl -sf -X POST -H 'content-type: application/json' \
		-d "{\"expired\":true,\"answer\":\"$2\"}" "$EMU_URL/_emu/containers/$1"
}

# A first turn that uploads data.csv and reads it; its container id.
first_turn() {
	ca-upload data.csv | ca-request "$CAT" | ca-exec >t.ndjson
	jq -r 'select(.type == "response") | .message.container.id' t.ndjson
}

# [status, container, the last user message's block types] per request.
sent() {
	emu_log /v1/messages | jq -c '[.status, .body.container, [.body.messages[-1].content[].type]]'
}

@test "the emulator's control route: an expired container answers 400, 500 or in its results" {
	cid=$(first_turn)
	[ "$(expire "$cid" 500 | jq -r '[.expired, .answer] | join(" ")')" = "true 500" ]
	req=$(jq -c --arg c "$cid" 'select(.type == "request") | .params | .container = $c' t.ndjson)
	run curl -s "${CA_API_HEADERS[@]}" -d "$req" "$EMU_URL/v1/messages"
	json_eq "$(jq -c .error <<<"$output")" '{"type":"api_error","message":"Internal server error"}'
	expire "$cid" 400 >/dev/null
	run curl -s "${CA_API_HEADERS[@]}" -d "$req" "$EMU_URL/v1/messages"
	[ "$(jq -r .error.details.error_code <<<"$output")" = container_expired ]
	expire "$cid" result >/dev/null
	run curl -s "${CA_API_HEADERS[@]}" -d "$req" "$EMU_URL/v1/messages"
	[ "$(jq -r '.content[] | select(.type == "bash_code_execution_tool_result") | .content.error_code' <<<"$output")" = container_expired ]
	run curl -s -X POST -H 'content-type: application/json' \
		-d '{"expired":true,"answer":"404"}' "$EMU_URL/_emu/containers/$cid"
	[[ "$output" == *"answer must be one of 400, 500, result"* ]]
}

@test "an expired container (400 container_expired): the turn again without it, the upload re-sent" {
	cid=$(first_turn)
	expire "$cid" 400 >/dev/null
	run --separate-stderr bash -c "ca-request -C '$CAT' <t.ndjson | ca-exec"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"container $cid is gone (an error naming it); sending the turn again in a new container: what the code kept in memory is lost, the uploads are sent again"* ]]
	[ "$(sent | tail -2)" = "[400,\"$cid\",[\"text\"]]
[200,null,[\"text\",\"container_upload\"]]" ]
	r=$(jq -c 'select(.type == "response")' <<<"$output")
	[ "$(jq -r .container_lost <<<"$r")" = "$cid" ]
	new=$(jq -r .message.container.id <<<"$r")
	[ -n "$new" ] && [ "$new" != "$cid" ]
	# The file is in the new container.
	[ "$(jq -r '.message.content[] | select(.type == "bash_code_execution_tool_result") | .content.stdout' <<<"$r")" = "a,b
1,2" ]
	# The next turn continues in the new container.
	printf '%s\n' "$output" >>t.ndjson
	ca-request -C more <t.ndjson | jq -e --arg c "$new" '.params.container == $c'
}

@test "the undocumented 500: retried as usual with the container, then once without" {
	cid=$(first_turn)
	expire "$cid" 500 >/dev/null
	ca-request -C "$CAT" <t.ndjson | ca-exec -r 1 >out.ndjson 2>err
	[ "$(sent | tail -3)" = "[500,\"$cid\",[\"text\"]]
[500,\"$cid\",[\"text\"]]
[200,null,[\"text\",\"container_upload\"]]" ]
	[ "$(grep -c 'is gone' err)" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .container_lost' out.ndjson)" = "$cid" ]
}

@test "container_expired in a code result: the response is not kept, the turn goes again" {
	cid=$(first_turn)
	expire "$cid" result >/dev/null
	ca-request -C "$CAT" <t.ndjson | ca-exec >out.ndjson 2>err
	grep -q "container $cid is gone (container_expired)" err
	[ "$(sent | tail -2 | jq -c '.[1]' | paste -sd' ')" = "\"$cid\" null" ]
	[ "$(jq -s 'map(select(.type == "response")) | length' out.ndjson)" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "bash_code_execution_tool_result") | .content.stdout' out.ndjson)" = "a,b
1,2" ]
}

@test "only once: a new container that fails too is the error it is" {
	cid=$(first_turn)
	# The old one answers 500, the new one 400.
	emu_fault '[{"path":"/v1/messages","status":500,"times":1},{"path":"/v1/messages","status":400,"times":1}]'
	run --separate-stderr bash -c "ca-request -C '$CAT' <t.ndjson | ca-exec -r 0"
	[ "$status" -eq 1 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 3 ]
	[ "$(grep -c 'is gone' <<<"$stderr")" -eq 1 ]
	[ "$(tail -1 <<<"$output" | jq -r .type)" = error ]
}

@test "a turn under way (tool results) is never moved to a new container" {
	cid=$(first_turn)
	expire "$cid" 400 >/dev/null
	jq -c --arg c "$cid" 'select(.type == "request") | .params.container = $c
		| .params.tools += [{name: "f", input_schema: {type: "object"}}]
		| .params.messages += [{role: "assistant", content: [{type: "tool_use", id: "toolu_1", name: "f", input: {}}]},
			{role: "user", content: [{type: "tool_result", tool_use_id: "toolu_1", content: "ok"}]}]' \
		t.ndjson >req.ndjson
	run --separate-stderr ca-exec <req.ndjson
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"container $cid is gone; a turn under way cannot move to a new one"* ]]
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
}

@test "ca-chat: a session resumed across an expired container, its files re-sent" {
	run ca-chat -t s.ndjson data.csv <<<$'"""\nshow it\n```bash\ncat data.csv\n```\n"""'
	[ "$status" -eq 0 ]
	cid=$(jq -r 'select(.type == "response") | .message.container.id' s.ndjson)
	expire "$cid" 500 >/dev/null
	run --separate-stderr ca-chat -t s.ndjson <<<$'"""\nagain\n```bash\ncat data.csv\n```\n"""'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"container $cid is gone"* ]]
	[ "$(emu_log /v1/messages | tail -1 | jq -c '[.body.container, [.body.messages[-1].content[].type]]')" = '[null,["text","container_upload"]]' ]
	[ "$(jq -rs 'map(select(.type == "response")) | last | .message.content[] | select(.type == "bash_code_execution_tool_result") | .content.stdout' s.ndjson)" = "a,b
1,2" ]
	new=$(jq -r 'select(.type == "response") | .message.container.id' s.ndjson | tail -1)
	[ "$new" != "$cid" ]
	[ "$(jq -r 'select(.type == "response") | .container_lost // empty' s.ndjson)" = "$cid" ]
}

@test "a 400 that is not the container's fails as it is, in the container" {
	first_turn >/dev/null
	emu_fault '[{"path":"/v1/messages","status":400,"times":1}]'
	run --separate-stderr bash -c "ca-request -C '$CAT' <t.ndjson | ca-exec"
	[ "$status" -eq 1 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
	[[ "$stderr" != *"is gone"* ]]
}
