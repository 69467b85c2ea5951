#!/usr/bin/env bats
# Long conversations: threshold and on-demand compaction, context
# editing, usage.iterations in the cost; the request bodies the
# emulator received, turn by turn.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	emu_start
}

teardown_file() {
	emu_stop
}

M=claude-opus-5

# big N C: N bytes of the letter C (the emulator counts a token for
# every four bytes of a request).
big() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

setup() {
	ca_test_setup
	{ echo one; big 240000 a; } >p240.txt
}

# The body of the Nth /v1/messages request (1-based).
body() {
	emu_log /v1/messages | sed -n "${1}p" | jq -c .body
}

beta() {
	emu_log /v1/messages | sed -n "${1}p" | jq -r '.headers["anthropic-beta"] // ""'
}

@test "--compact-at: the compact_20260112 edit and its header; 150000 by default" {
	ca-request -n -m $M --compact-at hi >r.ndjson
	json_eq "$(jq -c .params.context_management r.ndjson)" \
		'{"edits":[{"type":"compact_20260112","trigger":{"type":"input_tokens","value":150000}}]}'
	json_eq "$(jq -c .betas r.ndjson)" '["compact-2026-01-12"]'
	printf 'Keep the numbers.\n' >instr.txt
	ca-request -n -m $M --compact-at=50000 --compact-instructions instr.txt hi |
		ca-exec >out.ndjson
	json_eq "$(body 1 | jq -c .context_management)" \
		'{"edits":[{"type":"compact_20260112","trigger":{"type":"input_tokens","value":50000},"instructions":"Keep the numbers.\n"}]}'
	[ "$(beta 1)" = compact-2026-01-12 ]
}

@test "compaction options: below the minimum, an unlisted model, too long instructions are usage errors" {
	run -2 ca-request -n -m $M --compact-at=49999 hi
	[[ "$output" == *"the API's minimum is 50000"* ]]
	# The default model is not on the API's list for threshold compaction.
	run -2 ca-request -n --compact-at hi
	[[ "$output" == *"not claude-opus-5-5"* ]]
	run -2 ca-request -n -m claude-haiku-4-5 --compact hi
	big 16385 x >long.txt
	: >t.ndjson
	run -2 ca-request -C --compact --compact-instructions long.txt <t.ndjson
	[[ "$output" == *"16385 characters; the API takes at most 16384"* ]]
	run -2 ca-request -n -m $M --compact-instructions long.txt hi
	[ "$(emu_log /v1/messages | wc -l)" -eq 0 ]
}

@test "threshold compaction: the block comes back verbatim, earlier messages are dropped, the header on every turn" {
	ca-request -n -m $M --compact-at=50000 "one $(big 120000 a)" | ca-exec >t.ndjson
	ca-request -C "two $(big 120000 b)" <t.ndjson | ca-exec >>t.ndjson
	ca-request -C "three" <t.ndjson | ca-exec >>t.ndjson
	[ "$(jq -s 'map(select(.type == "error")) | length' t.ndjson)" -eq 0 ]
	# Turn 1 is under the trigger; turn 2 passes it and compacts.
	[ "$(body 1 | jq '.messages | length')" -eq 1 ]
	[ "$(body 2 | jq '.messages | length')" -eq 3 ]
	blk=$(jq -c 'select(.type == "response") | .message.content[0]' t.ndjson | sed -n 2p)
	[ "$(jq -r .type <<<"$blk")" = compaction ]
	[[ "$(jq -r .content <<<"$blk")" == "Summary of the conversation: 3 messages"* ]]
	[ "$(jq -r '.encrypted_content | length' <<<"$blk")" -eq 64 ]
	# Turn 3: the assistant message that starts with the block, then the
	# new prompt; turns 1 and 2 are left out of the request...
	[ "$(body 3 | jq '.messages | length')" -eq 2 ]
	json_eq "$(body 3 | jq -c '.messages[0].content[0]')" "$blk"
	[ "$(body 3 | jq -r '.messages[0].role')" = assistant ]
	[ "$(body 3 | jq -r '.messages[1].content[0].text')" = three ]
	json_eq "$(body 3 | jq -c .context_management)" "$(body 1 | jq -c .context_management)"
	for i in 1 2 3; do [ "$(beta $i)" = compact-2026-01-12 ]; done
	# ...but not out of the transcript.
	[ "$(grep -c '"type":"request"' t.ndjson)" -eq 3 ]
	grep -q '"one aaaa' t.ndjson
	# The usage: the compaction iteration beside the message's.
	u=$(jq -c 'select(.type == "response") | .message.usage' t.ndjson | sed -n 2p)
	[ "$(jq -r '.iterations | map(.type) | join(",")' <<<"$u")" = compaction,message ]
	[ "$(jq '.iterations[1].input_tokens == .input_tokens' <<<"$u")" = true ]
	[ "$(jq '.iterations[0].input_tokens > 50000' <<<"$u")" = true ]
}

@test "threshold compaction streamed: one compaction_delta, the block as the plain answer has it" {
	ca-request -n -m $M --compact-at=50000 "one $(big 120000 a)" | ca-exec >t.ndjson
	ca-request -C "two $(big 120000 b)" <t.ndjson | ca-exec --stream >>t.ndjson
	blk=$(jq -c 'select(.type == "response") | .message.content[0]' t.ndjson | sed -n 2p)
	[ "$(jq -r .type <<<"$blk")" = compaction ]
	[ "$(jq -r '.content != null and (.encrypted_content | length) == 64' <<<"$blk")" = true ]
	[ "$(jq -c 'select(.type == "response") | .message.usage.iterations | length' t.ndjson | sed -n 2p)" -eq 2 ]
	# The API takes it back: the emulator checks the block byte for byte.
	ca-request -C three <t.ndjson | ca-exec --stream >>t.ndjson
	[ "$(jq -s 'map(select(.type == "error")) | length' t.ndjson)" -eq 0 ]
	json_eq "$(body 3 | jq -c '.messages[0].content[0]')" "$blk"
}

@test "pause_after_compaction: ca-exec sends the block back and the turn goes on" {
	cm='{"edits":[{"type":"compact_20260112","trigger":{"type":"input_tokens","value":50000},"pause_after_compaction":true}]}'
	ca-request -n -m $M -P context_management="$cm" -f p240.txt |
		ca-exec >t.ndjson
	[ "$(jq -r 'select(.type == "response") | [.part, .message.stop_reason] | join(" ")' t.ndjson)" = "1 compaction
2 end_turn" ]
	[ "$(beta 1)" = compact-2026-01-12 ]
	json_eq "$(body 2 | jq -c '.messages[-1].content')" \
		"$(jq -c 'select(.type == "response" and .part == 1) | .message.content' t.ndjson)"
	[ "$(body 2 | jq -r '.messages[-1].role')" = assistant ]
}

@test "--continue refuses a transcript whose compaction block was edited, naming the line" {
	ca-request -n -m $M --compact-at=50000 -f p240.txt | ca-exec >t.ndjson
	[ "$(jq -r 'select(.type == "response") | .message.content[0].type' t.ndjson)" = compaction ]
	sed 's/Summary of the conversation/Summary of a conversation/' t.ndjson >bad.ndjson
	run -1 ca-request -C next <bad.ndjson
	[[ "$output" == "ca-request: <stdin>:2: compaction block 1 of the response is not as it came from the API"* ]]
	# The fingerprint alone edited: refused the same way.
	jq -c 'if .type == "response" then .compaction_prints = ["0000000000000000"] else . end' \
		t.ndjson >bad2.ndjson
	run -1 ca-request -C next <bad2.ndjson
	[[ "$output" == *"<stdin>:2: compaction block 1"* ]]
	ca-request -C next <t.ndjson >/dev/null
}

@test "the emulator: edited block, missing header, low trigger and stray fields are refused as the API does" {
	ca-request -n -m $M --compact-at=50000 -f p240.txt | ca-exec >t.ndjson
	blk=$(jq -c 'select(.type == "response") | .message.content[0]' t.ndjson)
	req() {
		jq -cn --argjson b "$1" --argjson cm "$2" \
			'{model: "claude-opus-5", max_tokens: 64, context_management: $cm,
			  messages: [{role: "assistant", content: [$b]}, {role: "user", content: "go"}]}'
	}
	cm='{"edits":[{"type":"compact_20260112"}]}'
	api -H 'anthropic-beta: compact-2026-01-12' -d "$(req "$blk" "$cm")" \
		"$EMU_URL/v1/messages" >ok.json
	[ "$(jq -r .stop_reason ok.json)" = end_turn ]
	edited=$(jq -c '.content += "!"' <<<"$blk")
	run curl -s "${CA_API_HEADERS[@]}" -H 'anthropic-beta: compact-2026-01-12' \
		-d "$(req "$edited" "$cm")" "$EMU_URL/v1/messages"
	[ "$(jq -r .error.details.error_code <<<"$output")" = compaction_content_mismatch ]
	run curl -s "${CA_API_HEADERS[@]}" -d "$(req "$blk" "$cm")" "$EMU_URL/v1/messages"
	[ "$(jq -r .error.type <<<"$output")" = invalid_request_error ]
	extra=$(jq -c '.citations = null' <<<"$blk")
	run curl -s "${CA_API_HEADERS[@]}" -H 'anthropic-beta: compact-2026-01-12' \
		-d "$(req "$extra" "$cm")" "$EMU_URL/v1/messages"
	[[ "$(jq -r .error.message <<<"$output")" == *"compaction.citations: Extra inputs are not permitted" ]]
	low='{"edits":[{"type":"compact_20260112","trigger":{"type":"input_tokens","value":49999}}]}'
	run curl -s "${CA_API_HEADERS[@]}" -H 'anthropic-beta: compact-2026-01-12' \
		-d "$(req "$blk" "$low")" "$EMU_URL/v1/messages"
	[[ "$(jq -r .error.message <<<"$output")" == *"greater than or equal to 50000" ]]
}

@test "a fifty-turn --continue chain: the request size stays bounded after compaction" {
	ca-request -n -m $M --compact-at=50000 "turn 1 $(big 40000 a)" | ca-exec >t.ndjson
	for i in $(seq 2 50); do
		ca-request -C "turn $i $(big 40000 a)" <t.ndjson | ca-exec >>t.ndjson
	done
	[ "$(jq -s 'map(select(.type == "error")) | length' t.ndjson)" -eq 0 ]
	[ "$(emu_log /v1/messages | jq -s 'map(select(.status == 200)) | length')" -eq 50 ]
	sizes=$(emu_log /v1/messages | jq '.headers["content-length"] | tonumber')
	# Without compaction turn 50 would carry 50 prompts (2 MB and more);
	# with it no request holds more than about five.
	[ "$(sort -n <<<"$sizes" | tail -1)" -lt 250000 ]
	[ "$(sed -n 50p <<<"$sizes")" -lt 250000 ]
	n=$(jq -s 'map(select(.type == "response" and .message.content[0].type == "compaction")) | length' t.ndjson)
	[ "$n" -ge 8 ]
	# The last request starts from the last block before it, verbatim.
	last=$(jq -c 'select(.type == "response") | .message.content[0] | select(.type == "compaction")' t.ndjson |
		head -n "$((n - $(tail -1 t.ndjson | jq '.message.content[0].type == "compaction" | if . then 1 else 0 end')))" | tail -1)
	json_eq "$(body 50 | jq -c '.messages[0].content[0]')" "$last"
	# The transcript keeps every turn.
	[ "$(grep -c '"type":"request"' t.ndjson)" -eq 50 ]
}

@test "cost: ca-render and --max-cost count the compaction iterations" {
	ca-request -n -m $M --compact-at=50000 -f p240.txt | ca-exec >t.ndjson
	u=$(jq -c 'select(.type == "response") | .message.usage' t.ndjson)
	in=$(jq '[.iterations[].input_tokens] | add' <<<"$u")
	out=$(jq '[.iterations[].output_tokens] | add' <<<"$u")
	[ "$in" -gt "$(jq .input_tokens <<<"$u")" ]
	ca-render -f markdown <t.ndjson >r.md
	grep -q "^tokens: $in input, $out output," r.md
	# claude-opus-5: $5 and $25 a million; the container's 5 minutes.
	want=$(awk -v i="$in" -v o="$out" 'BEGIN { printf "%.4f", (5 * i + 25 * o) / 1e6 }')
	grep -q "tokens \\\$$want" r.md
	# The top-level counts alone fit under this cap; the iterations do not.
	cap=$(awk -v i="$(jq .input_tokens <<<"$u")" 'BEGIN { printf "%.4f", 5 * i / 1e6 + 0.01 }')
	{ ca-request -n -m $M --compact-at=50000 -f p240.txt
	  ca-request -n -m $M --compact-at=50000 -f p240.txt; } |
		run -1 ca-exec -j 1 --max-cost "$cap"
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
}

@test "context editing: the edits in the API's order with their header; applied_edits kept and shown by ca-render -v" {
	ca-request -n -m claude-opus-4-6 --thinking=adaptive --clear-tool-uses=500 \
		--clear-thinking=1 'print(1)
```python
print(1)
```' | ca-exec >t.ndjson
	for i in 2 3 4 5; do
		ca-request -C "again $i
\`\`\`python
print($i)
\`\`\`" <t.ndjson | ca-exec >>t.ndjson
	done
	json_eq "$(body 5 | jq -c .context_management)" \
		'{"edits":[{"type":"clear_thinking_20251015","keep":{"type":"thinking_turns","value":1}},{"type":"clear_tool_uses_20250919","trigger":{"type":"input_tokens","value":500}}]}'
	for i in 1 2 3 4 5; do [ "$(beta $i)" = context-management-2025-06-27 ]; done
	ae=$(jq -c 'select(.type == "response") | .message.context_management.applied_edits' t.ndjson | tail -1)
	[ "$(jq -r 'map(.type) | join(",")' <<<"$ae")" = clear_thinking_20251015,clear_tool_uses_20250919 ]
	[ "$(jq '.[1].cleared_tool_uses' <<<"$ae")" -ge 1 ]
	ca-render -v -C never <t.ndjson >v.txt 2>/dev/null
	grep -q "context edit clear_tool_uses_20250919 cleared $(jq '.[1].cleared_tool_uses' <<<"$ae") tool uses" v.txt
	ca-render -C never <t.ndjson >plain.txt 2>/dev/null
	refute grep -q "context edit" plain.txt
	# Streamed, applied_edits comes in message_delta and is kept too.
	ca-request -C again <t.ndjson | ca-exec --stream >s.ndjson
	[ "$(jq -c 'select(.type == "response") | .message.context_management.applied_edits | length' s.ndjson)" -ge 1 ]
}

@test "on-demand compaction: --continue --compact asks for the summary; the next turn starts from the block" {
	ca-request -n -m claude-opus-5-5 "one" | ca-exec >t.ndjson
	ca-request -C two <t.ndjson | ca-exec >>t.ndjson
	ca-request -C --compact <t.ndjson | ca-exec >>t.ndjson
	json_eq "$(body 3 | jq -c .compaction)" '{"type":"summarize"}'
	[ "$(body 3 | jq '.messages | length')" -eq 4 ]
	[ "$(body 3 | jq 'has("context_management")')" = false ]
	[ "$(beta 3)" = compact-2026-09-04 ]
	# One response, not continued: stop_reason compaction ends it here.
	r=$(jq -c 'select(.type == "response")' t.ndjson | tail -1)
	[ "$(jq -r .message.stop_reason <<<"$r")" = compaction ]
	[ "$(jq -r '.message.content | map(.type) | join(",")' <<<"$r")" = compaction ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 3 ]
	ca-request -C three <t.ndjson | ca-exec >>t.ndjson
	[ "$(jq -s 'map(select(.type == "error")) | length' t.ndjson)" -eq 0 ]
	json_eq "$(body 4 | jq -c '.messages[0].content')" "$(jq -c .message.content <<<"$r")"
	[ "$(body 4 | jq '.messages | length')" -eq 2 ]
	[ "$(body 4 | jq 'has("compaction")')" = false ]
	[ "$(beta 4)" = compact-2026-09-04 ]
}

@test "ca-chat: /compact asks for the summary, the next turn starts from it; the transcript keeps every turn" {
	export CA_CHAT_RLWRAP=1
	run --separate-stderr ca-chat -t s.ndjson <<<$'one\ntwo\n/compact\nthree'
	[ "$status" -eq 0 ]
	[[ "$output" == *"compacted: Summary of the conversation: 4 messages, 2 from the user."* ]]
	json_eq "$(body 3 | jq -c .compaction)" '{"type":"summarize"}'
	[ "$(beta 3)" = compact-2026-09-04 ]
	[ "$(body 4 | jq -r '.messages[0].content[0].type')" = compaction ]
	[ "$(body 4 | jq '.messages | length')" -eq 2 ]
	[ "$(grep -c '"type":"request"' s.ndjson)" -eq 4 ]
	run --separate-stderr ca-chat -t none.ndjson <<<'/compact'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no turns yet: nothing to compact"* ]]
}

@test "ca-chat -c TOKENS: compacts by itself once a turn's input passes TOKENS" {
	export CA_CHAT_RLWRAP=1
	run --separate-stderr ca-chat -c 150 -t s.ndjson <<<$'one\ntwo\nthree\nfour'
	[ "$status" -eq 0 ]
	in=$(jq -r 'select(.type == "response") | .message.usage.input_tokens' s.ndjson)
	[ "$(sed -n 2p <<<"$in")" -le 150 ] && [ "$(sed -n 3p <<<"$in")" -gt 150 ]
	# Turns 1 and 2 read less than 150 tokens; turn 3 more: then, and
	# only then, the summary request; turn 4 starts from it.
	[ "$(emu_log /v1/messages | jq -r '.body | if has("compaction") then "C" else "T" end' | paste -sd' ')" = "T T T C T" ]
	[[ "$stderr" == *"the last turn read "*" input tokens (over -c 150); compacting"* ]]
	[ "$(body 5 | jq -r '.messages[0].content[0].type')" = compaction ]
	run -2 ca-chat -c 12x -t s.ndjson </dev/null
}
