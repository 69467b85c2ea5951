#!/usr/bin/env bats
# ca_sse and ca_msg, driven through t/unit/sse-test: framing variants,
# chunking, caps, and the Message a stream assembles to.

load test_helper

bats_require_minimum_version 1.5.0

FX="$CA_ROOT/t/fixtures/sse"

# The driver; under make valgrind (CA_VALGRIND set) a leak or memory
# error turns into exit status 99 and fails the test.
sse() {
	if [ -n "${CA_VALGRIND:-}" ]; then
		valgrind -q --leak-check=full --show-leak-kinds=definite \
			--errors-for-leak-kinds=definite --error-exitcode=99 \
			"$CA_ROOT/t/unit/sse-test" "$@"
	else
		"$CA_ROOT/t/unit/sse-test" "$@"
	fi
}

# ev NAME DATA: one SSE event, framed as the API frames it.
ev() {
	printf 'event: %s\ndata: %s\n\n' "$1" "$2"
}

# A small message_start, for hand-made streams.
start() {
	ev message_start '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":0}}}'
}

stop() {
	ev message_stop '{"type":"message_stop"}'
}

block_start() {	# INDEX BLOCK
	ev content_block_start "{\"type\":\"content_block_start\",\"index\":$1,\"content_block\":$2}"
}

block_delta() {	# INDEX DELTA
	ev content_block_delta "{\"type\":\"content_block_delta\",\"index\":$1,\"delta\":$2}"
}

block_stop() {	# INDEX
	ev content_block_stop "{\"type\":\"content_block_stop\",\"index\":$1}"
}

# assembles_to FILE EXPECTED-JSON CHUNK...: at each chunk size the
# stream in FILE assembles to a message equal to EXPECTED as a value.
assembles_to() {
	local file=$1 want c
	want=$(jq -S -c . <<<"$2")
	shift 2
	for c in "$@"; do
		run -0 sse -a -c "$c" <"$file"
		[ "$(jq -S -c . <<<"$output")" = "$want" ] || {
			echo "chunk $c: got $output" >&2
			return 1
		}
	done
}

# same_events FILE CHUNK...: FILE gives exactly the transcript's events.
same_events() {
	local file=$1 want c
	shift
	want=$(sse <"$FX/transcript.sse")
	[ "$(wc -l <<<"$want")" -eq 27 ]
	for c in "$@"; do
		run -0 sse -c "$c" <"$file"
		[ "$output" = "$want" ] || {
			echo "chunk $c: events differ:" >&2
			diff <(echo "$want") <(echo "$output") >&2
			return 1
		}
	done
}

transcript_msg() {
	cat "$FX/message.json"
}

@test "the transcript assembles to the documented message at any chunk size" {
	assembles_to "$FX/transcript.sse" "$(transcript_msg)" 1 2 3 7 37 4096
}

@test "every event of the transcript is dispatched, pings included" {
	run -0 sse -c 5 <"$FX/transcript.sse"
	[ "${#lines[@]}" -eq 27 ]
	[ "$(jq -r .event <<<"${lines[0]}")" = message_start ]
	[ "$(jq -c .data <<<"${lines[2]}")" = '"{\"type\": \"ping\"}"' ]
	[ "$(jq -r .event <<<"${lines[26]}")" = message_stop ]
	# The data is passed on byte for byte.
	[ "$(jq -r .data <<<"${lines[0]}")" = "$(sed -n 2p "$FX/transcript.sse" | cut -c7-)" ]
}

@test "CRLF line ends, split across chunks, give the same events" {
	sed 's/$/\r/' "$FX/transcript.sse" >crlf.sse
	grep -q $'\r$' crlf.sse
	same_events crlf.sse 1 2 37 4096
	assembles_to crlf.sse "$(transcript_msg)" 1 4096
}

@test "CR-only line ends give the same events" {
	tr '\n' '\r' <"$FX/transcript.sse" >cr.sse
	[ "$(wc -l <cr.sse)" -eq 0 ]
	same_events cr.sse 1 3 4096
	assembles_to cr.sse "$(transcript_msg)" 1 4096
}

@test "mixed line ends give the same events" {
	awk '{ printf "%s%s", $0, (NR % 3 == 0 ? "\r\n" : NR % 3 == 1 ? "\r" : "\n") }' \
		"$FX/transcript.sse" >mixed.sse
	same_events mixed.sse 1 2 4096
}

@test "data: and event: without the space after the colon" {
	sed 's/^data: /data:/; s/^event: /event:/' "$FX/transcript.sse" >nospace.sse
	[ "$(grep -c '^data: ' nospace.sse)" -eq 0 ]
	same_events nospace.sse 1 4096
	assembles_to nospace.sse "$(transcript_msg)" 1 4096
}

@test "only one space after the colon is stripped" {
	printf 'event: x\ndata:  two\n\nevent:y\ndata:\n\n' >sp.sse
	run -0 sse <sp.sse
	[ "${lines[0]}" = '{"event":"x","data":" two"}' ]
	[ "${lines[1]}" = '{"event":"y","data":""}' ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "comment lines are ignored" {
	awk '{ print ": keep-alive " NR; print }' "$FX/transcript.sse" >comments.sse
	printf ':\n\n' >>comments.sse
	same_events comments.sse 1 7 4096
}

@test "a leading UTF-8 BOM is skipped, even split across chunks" {
	{ printf '\357\273\277'; cat "$FX/transcript.sse"; } >bom.sse
	same_events bom.sse 1 2 4096
	assembles_to bom.sse "$(transcript_msg)" 1 4096
}

@test "a BOM later in the stream is not skipped" {
	printf 'event: a\ndata: 1\n\n\357\273\277event: b\ndata: 2\n\n' >bom2.sse
	run -0 sse -c 1 <bom2.sse
	[ "$output" = '{"event":"a","data":"1"}' ]
}

@test "unknown events and extra pings change nothing" {
	awk '{ print } /^$/ {
		print "event: ping"; print "data: {\"type\": \"ping\"}"; print ""
		print "event: content_block_hologram"
		print "data: {\"type\":\"content_block_hologram\",\"index\":99}"; print ""
	}' "$FX/transcript.sse" >extra.sse
	[ "$(grep -c '^event: ping' extra.sse)" -eq 28 ]
	run -0 sse <extra.sse
	[ "${#lines[@]}" -eq 81 ]
	assembles_to extra.sse "$(transcript_msg)" 1 37 4096
}

@test "id:, retry: and unknown fields are ignored" {
	awk '/^event:/ { print "id: " NR; print "retry: 3000"; print "x-other: y"; print "idonly" } { print }' \
		"$FX/transcript.sse" >ids.sse
	grep -q '^retry: 3000' ids.sse
	same_events ids.sse 1 4096
}

@test "multi-line data is joined with newlines" {
	# JSON allows a newline between tokens, so the message is unchanged.
	sed 's/^data: {"type":/data: {\ndata: "type":/' "$FX/transcript.sse" >multi.sse
	[ "$(grep -c '^data: ' multi.sse)" -eq 54 ]
	assembles_to multi.sse "$(transcript_msg)" 1 2 4096
	run -0 sse -c 3 <multi.sse
	[ "$(jq -r .data <<<"${lines[1]}" | head -n 1)" = '{' ]
	printf 'event: e\ndata: a\ndata:\ndata: b\n\n' >j.sse
	run -0 sse -c 1 <j.sse
	[ "$output" = '{"event":"e","data":"a\n\nb"}' ]
}

@test "an event without an event: line is not dispatched" {
	printf 'data: {"type":"message_stop"}\n\nevent: a\ndata: 1\n\nid: 7\ndata: 2\n\n' >noname.sse
	run -0 sse -c 1 <noname.sse
	[ "$output" = '{"event":"a","data":"1"}' ]
}

@test "a named event without data is dispatched with empty data" {
	printf 'event: bare\n\nevent: ping\n\n' >bare.sse
	run -0 sse <bare.sse
	[ "${lines[0]}" = '{"event":"bare","data":""}' ]
	[ "${lines[1]}" = '{"event":"ping","data":""}' ]
}

@test "the last event: line wins, and blank lines alone dispatch nothing" {
	printf '\n\n\nevent: a\nevent: b\ndata: x\n\n\n' >last.sse
	run -0 sse -c 2 <last.sse
	[ "$output" = '{"event":"b","data":"x"}' ]
}

@test "an unterminated last event is not dispatched" {
	printf 'event: a\ndata: 1\n\nevent: b\ndata: 2\n' >tail.sse
	run -0 sse <tail.sse
	[ "$output" = '{"event":"a","data":"1"}' ]
}

@test "multibyte UTF-8 split across chunks comes out whole" {
	text='naïve ✓ 日本語 🎉 done'
	{
		start
		block_start 0 '{"type":"text","text":"","citations":null}'
		block_delta 0 "$(jq -cn --arg t "$text" '{type:"text_delta",text:$t}')"
		block_delta 0 '{"type":"text_delta","text":"!"}'
		block_stop 0
		stop
	} >utf8.sse
	for c in 1 2 3 5 7; do
		run -0 sse -a -c "$c" <utf8.sse
		[ "$(jq -r '.content[0].text' <<<"$output")" = "$text!" ]
	done
}

@test "a line longer than -m fails with a clear message" {
	{ printf 'event: big\ndata: '; head -c 200 /dev/zero | tr '\0' a; printf '\n\n'; } >long.sse
	run -1 --separate-stderr sse -m 150 -c 7 <long.sse
	[ "$stderr" = "sse-test: event larger than 150 bytes" ]
	[ -z "$output" ]
	# The same line fits a larger cap.
	run -0 sse -m 206 -c 7 <long.sse
	[ "$(jq '.data | length' <<<"$output")" -eq 200 ]
	# Even a comment line, and even when it arrives in one piece.
	{ printf ': '; head -c 200 /dev/zero | tr '\0' a; printf '\n\n'; } >comment.sse
	run -1 --separate-stderr sse -m 150 <comment.sse
	[ "$stderr" = "sse-test: event larger than 150 bytes" ]
	run -0 sse -m 202 <comment.sse
}

@test "a line with no end fails at the cap, without waiting for more" {
	head -c 100000 /dev/zero | tr '\0' a >endless.sse
	run -1 --separate-stderr sse -m 1000 -c 64 <endless.sse
	[ "$stderr" = "sse-test: event larger than 1000 bytes" ]
}

@test "an event's data over -m fails even when each line fits" {
	printf 'event: e\n' >many.sse
	for _ in $(seq 20); do printf 'data: 0123456789\n'; done >>many.sse
	printf '\n' >>many.sse
	run -1 --separate-stderr sse -m 100 <many.sse
	[ "$stderr" = "sse-test: event larger than 100 bytes" ]
	# 20 lines of 10 bytes joined by 19 newlines are 219 bytes.
	run -0 sse -m 219 <many.sse
	[ "$(jq '.data | length' <<<"$output")" -eq 219 ]
	run -1 sse -m 218 <many.sse
}

@test "a mid-stream error event fails with its type and message" {
	{
		head -n 15 "$FX/transcript.sse"
		ev error '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
		tail -n +16 "$FX/transcript.sse"
	} >err.sse
	for c in 1 4096; do
		run -1 --separate-stderr sse -a -c "$c" <err.sse
		[ "$stderr" = "sse-test: overloaded_error: Overloaded" ]
		[ -z "$output" ]
	done
	# The error event itself is an ordinary named event to the parser.
	run -0 sse <err.sse
	[ "$(jq -r .event <<<"${lines[5]}")" = error ]
}

@test "control characters in an error message are made harmless" {
	{ start; ev error '{"type":"error","error":{"type":"api_error","message":"bad\u001b[31m"}}'; } >esc.sse
	run -1 --separate-stderr sse -a <esc.sse
	[ "$stderr" = 'sse-test: api_error: bad\x1b[31m' ]
}

@test "input_json_delta fragments split mid-escape assemble" {
	{
		start
		block_start 0 '{"type":"tool_use","id":"toolu_1","name":"sh","input":{}}'
		for frag in '' '{"cmd": "say \' '"hi\' '"\' 'n", "u": "\u00' 'e9", "n": [1, ' '2]}'; do
			block_delta 0 "$(jq -cn --arg p "$frag" '{type:"input_json_delta",partial_json:$p}')"
		done
		block_stop 0
		stop
	} >json.sse
	for c in 1 3 4096; do
		run -0 sse -a -c "$c" <json.sse
		[ "$(jq -c '.content[0].input' <<<"$output")" = '{"cmd":"say \"hi\"\n","u":"é","n":[1,2]}' ]
	done
}

@test "tool input with no fragments, or only empty ones, is {}" {
	{
		start
		block_start 0 '{"type":"server_tool_use","id":"s1","name":"bash_code_execution","input":{}}'
		block_stop 0
		block_start 1 '{"type":"tool_use","id":"t1","name":"x","input":{}}'
		block_delta 1 '{"type":"input_json_delta","partial_json":""}'
		block_stop 1
		block_start 2 '{"type":"server_tool_use","id":"s2","name":"code_execution"}'
		block_stop 2
		stop
	} >empty.sse
	run -0 sse -a <empty.sse
	[ "$(jq -c '[.content[].input]' <<<"$output")" = '[{},{},{}]' ]
}

@test "invalid tool input JSON is an error at content_block_stop" {
	{
		start
		block_start 0 '{"type":"tool_use","id":"t","name":"x","input":{}}'
		block_delta 0 '{"type":"input_json_delta","partial_json":"{\"a\": "}'
		block_stop 0
		stop
	} >badjson.sse
	run -1 --separate-stderr sse -a <badjson.sse
	[ "$stderr" = "sse-test: content block 0: tool input is not valid JSON" ]
}

@test "message_delta usage overwrites, never adds" {
	{
		start
		ev message_delta '{"type":"message_delta","delta":{"stop_reason":"pause_turn","stop_sequence":null,"container":{"id":"c1","expires_at":"x","skills":null}},"usage":{"output_tokens":100,"input_tokens":30}}'
		ev message_delta '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":null},"usage":{"output_tokens":412,"input_tokens":null,"server_tool_use":{"web_search_requests":0}}}'
		stop
	} >usage.sse
	run -0 sse -a <usage.sse
	json_eq "$(jq -c .usage <<<"$output")" \
		'{"input_tokens":30,"output_tokens":412,"cache_read_input_tokens":0,"server_tool_use":{"web_search_requests":0}}'
	[ "$(jq -r .stop_reason <<<"$output")" = end_turn ]
	# A null container in a later delta keeps the one already seen.
	[ "$(jq -r .container.id <<<"$output")" = c1 ]
	[ "$(jq -c 'has("stop_details"), .stop_details' <<<"$output" | paste -sd,)" = true,null ]
}

@test "thinking, signature and citations deltas" {
	{
		start
		block_start 0 '{"type":"thinking","thinking":"","signature":""}'
		block_delta 0 '{"type":"thinking_delta","thinking":"Let me "}'
		block_delta 0 '{"type":"thinking_delta","thinking":"think."}'
		block_delta 0 '{"type":"signature_delta","signature":"EqQBCgIYAhIM"}'
		block_stop 0
		block_start 1 '{"type":"text","text":"","citations":null}'
		block_delta 1 '{"type":"text_delta","text":"Per "}'
		block_delta 1 '{"type":"citations_delta","citation":{"type":"char_location","cited_text":"a"}}'
		block_delta 1 '{"type":"text_delta","text":"the doc."}'
		block_delta 1 '{"type":"citations_delta","citation":{"type":"char_location","cited_text":"b"}}'
		block_stop 1
		stop
	} >think.sse
	run -0 sse -a -c 3 <think.sse
	json_eq "$(jq -c .content <<<"$output")" \
		'[{"type":"thinking","thinking":"Let me think.","signature":"EqQBCgIYAhIM"},{"type":"text","text":"Per the doc.","citations":[{"type":"char_location","cited_text":"a"},{"type":"char_location","cited_text":"b"}]}]'
}

@test "a delta that does not fit its block's type changes nothing" {
	{
		start
		block_start 0 '{"type":"text","text":"a","citations":null}'
		block_delta 0 '{"type":"thinking_delta","thinking":"x"}'
		block_delta 0 '{"type":"input_json_delta","partial_json":"{"}'
		block_delta 0 '{"type":"hologram_delta","x":1}'
		block_delta 0 '{"type":"text_delta","text":"b"}'
		block_stop 0
		block_start 1 '{"type":"thinking","thinking":"t","signature":""}'
		block_delta 1 '{"type":"text_delta","text":"x"}'
		block_delta 1 '{"type":"citations_delta","citation":{"type":"x"}}'
		block_stop 1
		block_start 2 '{"type":"server_tool_use","id":"s","name":"n","input":{}}'
		block_delta 2 '{"type":"text_delta","text":"x"}'
		block_delta 2 '{"type":"signature_delta","signature":"x"}'
		block_stop 2
		stop
	} >mismatch.sse
	run -0 sse -a <mismatch.sse
	json_eq "$(jq -c .content <<<"$output")" '[{"type":"text","text":"ab","citations":null},{"type":"thinking","thinking":"t","signature":""},{"type":"server_tool_use","id":"s","name":"n","input":{}}]'
}

@test "events before message_start are an error" {
	{ block_start 0 '{"type":"text","text":""}'; stop; } >early.sse
	run -1 --separate-stderr sse -a <early.sse
	[ "$stderr" = "sse-test: content_block_start before message_start" ]
}

@test "a second message_start is an error" {
	{ start; start; stop; } >twice.sse
	run -1 --separate-stderr sse -a <twice.sse
	[ "$stderr" = "sse-test: message_start after message_start" ]
}

@test "content blocks must start at index 0, 1, 2 in order" {
	{ start; block_start 1 '{"type":"text","text":""}'; stop; } >skip.sse
	run -1 --separate-stderr sse -a <skip.sse
	[ "$stderr" = "sse-test: content_block_start for block 1, expected block 0" ]
	{ start; block_start 0 '{"type":"text","text":""}'; block_start 0 '{"type":"text","text":""}'; } >dup.sse
	run -1 --separate-stderr sse -a <dup.sse
	[ "$stderr" = "sse-test: content_block_start for block 0, expected block 1" ]
}

@test "deltas and stops for unknown or closed blocks are errors" {
	{ start; block_start 0 '{"type":"text","text":""}'; block_delta 3 '{"type":"text_delta","text":"x"}'; } >unk.sse
	run -1 --separate-stderr sse -a <unk.sse
	[ "$stderr" = "sse-test: content_block_delta for unknown content block 3" ]
	{ start; block_start 0 '{"type":"text","text":""}'; block_stop 0; block_delta 0 '{"type":"text_delta","text":"x"}'; } >closed.sse
	run -1 --separate-stderr sse -a <closed.sse
	[ "$stderr" = "sse-test: content_block_delta for content block 0 after its content_block_stop" ]
	{ start; block_stop 0; } >stop0.sse
	run -1 --separate-stderr sse -a <stop0.sse
	[ "$stderr" = "sse-test: content_block_stop for unknown content block 0" ]
}

@test "a stream cut before message_stop gives the partial message and fails" {
	head -n 36 "$FX/transcript.sse" >cut.sse
	run -1 --separate-stderr sse -a -c 1 <cut.sse
	[ "$stderr" = "sse-test: stream ended before message_stop" ]
	[ "$(jq -r '.content | length' <<<"$output")" -eq 3 ]
	[ "$(jq -c '.content[1].input' <<<"$output")" = '{"command":"wc -l data.csv"}' ]
	[ "$(jq -c .stop_reason <<<"$output")" = null ]
	# An open text block gives up its text so far.
	{ start; block_start 0 '{"type":"text","text":"","citations":null}'; block_delta 0 '{"type":"text_delta","text":"half"}'; } >open.sse
	run -1 sse -a <open.sse
	[ "$(head -n 1 <<<"$output" | jq -r '.content[0].text')" = half ]
}

@test "invalid JSON in an event's data is an error naming the event" {
	{ start; ev content_block_start '{"type":"content_block_start",'; } >badev.sse
	run -1 --separate-stderr sse -a <badev.sse
	[ "$stderr" = "sse-test: content_block_start event: data is not valid JSON" ]
}

@test "an 8 MiB data line in 4 KiB chunks goes through whole" {
	{
		printf 'event: content_block_start\ndata: '
		head -c 8388608 /dev/zero | tr '\0' x
		printf '\n\n'
	} >big.sse
	run -0 sse -c 4096 <big.sse
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq '.data | length' <<<"$output")" -eq 8388608 ]
}

@test "an 8 MiB code execution result assembles" {
	{
		start
		printf 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"bash_code_execution_tool_result","tool_use_id":"s","content":{"type":"bash_code_execution_result","stdout":"'
		head -c 8388608 /dev/zero | tr '\0' y
		printf '","stderr":"","return_code":0,"content":[]}}}\n\n'
		block_stop 0
		stop
	} >bigres.sse
	run -0 sse -a -c 4096 <bigres.sse
	[ "$(jq '.content[0].content.stdout | length' <<<"$output")" -eq 8388608 ]
}

@test "the transcript is clean under valgrind" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	# A sanitizer build (make asan) cannot run under valgrind.
	! grep -qa __asan_init "$CA_ROOT/t/unit/sse-test" || skip "built with ASan"
	run -0 valgrind -q --leak-check=full --error-exitcode=9 "$CA_ROOT/t/unit/sse-test" -a -c 7 <"$FX/transcript.sse"
	run -0 valgrind -q --leak-check=full --error-exitcode=9 "$CA_ROOT/t/unit/sse-test" -c 1 <"$FX/transcript.sse"
	run -1 valgrind -q --leak-check=full --error-exitcode=9 "$CA_ROOT/t/unit/sse-test" -a -c 3 -m 100 <"$FX/transcript.sse"
}

@test "sse-test rejects bad usage" {
	run -2 sse -c 0
	run -2 sse -c x
	run -2 sse extra
}
