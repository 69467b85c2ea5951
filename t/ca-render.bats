#!/usr/bin/env bats
# ca-render: shows records to a person (text, markdown, html, -r, --stdout).

bats_require_minimum_version 1.5.0
load test_helper

FIX="$BATS_TEST_DIRNAME/fixtures/render"

# A valid RGB PNG of W x H pixels: make_png W H PATH
make_png() {
	python3 - "$1" "$2" "$3" <<'EOF'
import struct, sys, zlib
w, h, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
rows = b''.join(b'\x00' + b''.join(bytes((x * 255 // w, y * 255 // h, 160)) for x in range(w))
                for y in range(h))
png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
       + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
open(path, 'wb').write(png)
EOF
}

# The blocks fixture with its fetched files present and their sizes right.
blocks_with_files() {
	mkdir -p out
	make_png 64 48 out/chart.png
	printf 'wrote report\n' >out/report.txt
	jq -c --argjson png "$(stat -c %s out/chart.png)" \
		--argjson txt "$(stat -c %s out/report.txt)" '
		if .type == "fetched" and .file.filename == "chart.png" then .size = $png
		elif .type == "fetched" then .size = $txt else . end' \
		"$FIX/blocks.ndjson" >blocks.ndjson
}

# One response record for turn $1 holding the content array $2.
response() {
	jq -cn --arg id "$1" --argjson c "$2" '{type: "response", custom_id: $id,
		part: 1, request_id: "req_x", attempts: 1,
		message: {id: "msg_x", type: "message", role: "assistant",
			model: "claude-sonnet-4-5", content: $c,
			stop_reason: "end_turn", container: null,
			usage: {input_tokens: 10, output_tokens: 5}}}'
}

# ---- Options ----

@test "--help and -h print the usage on stdout and exit 0" {
	run --separate-stderr ca-render --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ca-render [-hrsv] [-C when] [-d dir] [-f format]"* ]]
	[ -z "$stderr" ]
	run --separate-stderr ca-render -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}

@test "empty input shows nothing and exits 0 in every format" {
	run --separate-stderr ca-render </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr ca-render -f markdown </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "# ca session report" ]
	run --separate-stderr ca-render -f html </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == "<!DOCTYPE html>"*"</html>" ]]
}

# ---- Text: records ----

@test "text: file, request, fetched, deleted and unknown records" {
	run --separate-stderr ca-render <"$FIX/blocks.ndjson"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "uploaded sales.csv → file_011Upload0000000000000001 (1024 bytes)" ]
	grep -qx '━━ turn r1 ━━' <<<"$output"
	grep -qx 'request to claude-opus-5-5' <<<"$output"
	grep -qx '> Plot monthly revenue from sales.csv' <<<"$output"
	grep -qx 'attached file_011Upload0000000000000001 sales.csv' <<<"$output"
	grep -qx 'fetched file_011Chart00000000000000001 → out/chart.png (67 bytes)' <<<"$output"
	grep -qx 'fetched file_011Report0000000000000001 → out/report.txt (12 bytes)' <<<"$output"
	grep -qx '\[unknown record: telemetry\]' <<<"$output"
	grep -qx 'deleted file_011Upload0000000000000001 sales.csv' <<<"$output"
}

@test "text: python and bash calls, stdout and stderr apart, return codes, files" {
	run --separate-stderr ca-render <"$FIX/blocks.ndjson"
	[ "$status" -eq 0 ]
	# The first python call and its result, in order.
	diff -u - <(grep -A9 -x 'python:' <<<"$output" | head -10) <<'EOF'
python:
  import pandas as pd
  print(len(pd.read_csv('sales.csv')))
stdout:
  100
stderr:
  DeprecationWarning: old pandas
output file file_011Chart00000000000000001
python:
  search('revenue')
EOF
	grep -qx '(stdout encrypted: the code called web search)' <<<"$output"
	grep -qx 'tool error execution_time_exceeded: the code ran past its time limit' <<<"$output"
	diff -u - <(grep -A8 -x '  ls missing; python3 report.py' <<<"$output") <<'EOF'
  ls missing; python3 report.py
stdout:
  wrote report.txt
stderr:
  ls: cannot access 'missing': No such file or directory
return code 2
output file file_011Report0000000000000001
bash:
  dd if=/dev/zero of=outputs/big bs=1M count=2000
EOF
	grep -qx 'tool error output_file_too_large: an output file was too large to keep' <<<"$output"
	# A zero return code is not mentioned.
	[ "$(grep -c '^return code' <<<"$output")" -eq 1 ]
}

@test "text: editor view, create, str_replace and error" {
	run --separate-stderr ca-render <"$FIX/blocks.ndjson"
	[ "$status" -eq 0 ]
	diff -u - <(sed -n '/^editor view \/tmp\/data.csv$/,/^editor view \/tmp\/missing/p' <<<"$output") <<'EOF'
editor view /tmp/data.csv
view:
       1  month,revenue
       2  2026-01,100
editor create /tmp/outputs/summary.txt
file text:
  rows=100
  months=12
created /tmp/outputs/summary.txt
editor str_replace /tmp/config.json
diff:
  --- /tmp/config.json
  +++ /tmp/config.json
  -  "debug": true
  +  "debug": false
replaced: @@ -3,1 +3,1 @@
lines:
  -  "debug": true
  +  "debug": false
editor view /tmp/missing.txt
EOF
	grep -qx 'tool error file_not_found: the file does not exist in the container (No such file: /tmp/missing.txt)' <<<"$output"
}

@test "text: thinking, custom tools, web and tool search, uploads, unknown blocks" {
	run --separate-stderr ca-render <"$FIX/blocks.ndjson"
	[ "$status" -eq 0 ]
	grep -qx 'thinking: The user wants monthly revenue. I should load sales.csv with pandas, group by month and plot it.' <<<"$output"
	grep -qx '(redacted thinking)' <<<"$output"
	grep -qx 'web search: retail revenue seasonality' <<<"$output"
	grep -qx 'web search found 1 result' <<<"$output"
	grep -qx '  Seasonality in retail https://example.com/seasonality' <<<"$output"
	grep -qx 'web fetch: https://example.com/report' <<<"$output"
	grep -qx 'web fetch found https://example.com/report' <<<"$output"
	grep -qx 'tool search: weather' <<<"$output"
	grep -qx 'tool search found get_weather' <<<"$output"
	grep -qx 'tool error unavailable' <<<"$output"
	grep -qx 'tool call get_weather (called from code)' <<<"$output"
	grep -qx '  {"city":"Paris"}' <<<"$output"
	grep -qx 'container upload file_011Upload0000000000000001 sales.csv' <<<"$output"
	grep -qx '\[unknown block: fancy_new_block\]' <<<"$output"
	# The model's words, first and last.
	grep -qx "I'll look at the data first." <<<"$output"
	grep -qx 'Revenue rises every month; the chart is attached.' <<<"$output"
}

@test "text: long thinking and long prompts are shown briefly" {
	long=$(printf 'word %.0s' $(seq 200))
	{
		jq -cn --arg p "$(seq 1 30)" '{type: "request", custom_id: "b1",
			params: {model: "claude-haiku-4-5", messages: [{role: "user", content: $p}]}}'
		response b1 "$(jq -cn --arg t "$long" '[{type: "thinking", thinking: $t, signature: "s"}]')"
	} >brief.ndjson
	run --separate-stderr ca-render <brief.ndjson
	[ "$status" -eq 0 ]
	grep -qx '> 1' <<<"$output"
	grep -qx '> 8' <<<"$output"
	refute grep -qx '> 9' <<<"$output"
	grep -q '^thinking: word word.*\.\.\.$' <<<"$output"
	t=$(grep '^thinking: ' <<<"$output")
	[ "${#t}" -le 214 ]
	# Reports keep the whole prompt.
	run --separate-stderr ca-render -f markdown <brief.ndjson
	grep -qx '> 30' <<<"$output"
}

@test "text: an error record shows status, type, message, request id and attempts; exit 1" {
	run --separate-stderr ca-render <"$FIX/error.ndjson"
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	grep -qx 'error 400 invalid_request_error: max_tokens: field required' <<<"$output"
	grep -qx 'request id req_011Bad, 1 attempt' <<<"$output"
	grep -qx 'no response, 1 error' <<<"$output"
}

@test "text: only temporary error records exit 75" {
	run --separate-stderr ca-render <"$FIX/overloaded.ndjson"
	[ "$status" -eq 75 ]
	grep -qx 'error 529 overloaded_error: Overloaded' <<<"$output"
	grep -qx 'request id req_011Busy, 3 attempts' <<<"$output"
	run --separate-stderr bash -c 'cat "$0"/overloaded.ndjson "$0"/error.ndjson | ca-render' "$FIX"
	[ "$status" -eq 1 ]
}

@test "text: an empty turn says so and still ends with its stop reason" {
	run --separate-stderr ca-render <"$FIX/empty.ndjson"
	[ "$status" -eq 0 ]
	diff -u - <(sed -n '/^> Say nothing$/,/^stop/p' <<<"$output") <<'EOF'
> Say nothing
(no content)
stop reason end_turn, model claude-opus-5-5, 12 input + 0 output tokens
EOF
}

@test "text: a pause_turn continuation is announced once, between the parts" {
	run --separate-stderr ca-render <"$FIX/pause.ndjson"
	[ "$status" -eq 0 ]
	diff -u - <(sed -n '/^Starting a long job.$/,/^The job finished.$/p' <<<"$output") <<'EOF'
Starting a long job.
bash:
  sleep 100; echo finished
stop reason pause_turn, model claude-opus-5-5, 2000 input + 200 output tokens
paused; continuing (part 2)
stdout:
  finished
The job finished.
EOF
	[ "$(grep -c 'paused; continuing' <<<"$output")" -eq 1 ]
	[ "$(grep -c '^─ Summary of turn r4$' <<<"$output")" -eq 1 ]
	grep -qx 'tokens: 5000 input, 500 output, 0 cache write, 0 cache read' <<<"$output"
	grep -qx '2 responses, 1 code run, 0 file edits, 0 errors' <<<"$output"
}

@test "text: interleaved turns get a heading whenever the turn changes" {
	{
		response a '[{"type":"text","text":"first of a"}]' | jq -c '.message.stop_reason = "pause_turn"'
		response b '[{"type":"text","text":"only of b"}]'
		response a '[{"type":"text","text":"second of a"}]' | jq -c '.part = 2'
	} >inter.ndjson
	run --separate-stderr ca-render <inter.ndjson
	[ "$status" -eq 0 ]
	diff -u - <(grep -e '^━━' -e '^first\|^second\|^only' <<<"$output") <<'EOF'
━━ turn a ━━
first of a
━━ turn b ━━
only of b
━━ turn a ━━
second of a
EOF
	# A report groups them by turn.
	run --separate-stderr ca-render -f markdown <inter.ndjson
	diff -u - <(grep -e '^##' -e ' of ' <<<"$output") <<'EOF'
## Turn `a`
first of a
### Part 2
second of a
### Summary of turn `a`
## Turn `b`
only of b
### Summary of turn `b`
## Summary of 2 turns
EOF
}

@test "text and reports: adjacent text blocks read as one, as cited text is split" {
	response c1 '[{"type":"text","text":"Paris is "},{"type":"text","text":"the capital."}]' >c.ndjson
	run --separate-stderr ca-render <c.ndjson
	grep -qx 'Paris is the capital.' <<<"$output"
	run --separate-stderr ca-render -f markdown <c.ndjson
	grep -qx 'Paris is the capital.' <<<"$output"
	run --separate-stderr ca-render -f html <c.ndjson
	grep -qF '<div class="text">Paris is the capital.</div>' <<<"$output"
}

@test "-v reports what was read on stderr" {
	run --separate-stderr ca-render -v <"$FIX/pause.ndjson"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ca-render: 3 records, 1 turn, 0 bad lines" ]
	run --separate-stderr ca-render <"$FIX/pause.ndjson"
	[ -z "$stderr" ]
}

# ---- Summaries ----

@test "summary: tokens, cache, runs, containers with expiry, estimated cost" {
	run --separate-stderr ca-render <"$FIX/blocks.ndjson"
	[ "$status" -eq 0 ]
	diff -u - <(sed -n '/^─ Summary of turn r1$/,/^estimated/p' <<<"$output") <<'EOF'
─ Summary of turn r1
tokens: 5210 input, 412 output, 1000 cache write, 2000 cache read
cache hit ratio: 24% of input tokens read from the cache
1 response, 5 code runs, 4 file edits, 4 errors (4 in code execution)
container container_011CZkZaBF1tNoB5wlCeusgy expires 2026-11-18T13:04:05.123456Z
estimated cost: $0.0478 (tokens $0.0436, container time $0.0042: 1 × 5-minute minimum)
EOF
	# One turn: no second, identical summary for the whole input.
	refute grep -q 'Summary of all' <<<"$output"
	# The errors counted are those shown in red above: a time-out, a
	# non-zero return code, a file too large, a missing file.
	[ "$(grep -cE '^(tool error (execution_time_exceeded|output_file_too_large|file_not_found)|return code 2)' <<<"$output")" -eq 4 ]
}

@test "summary: the whole input adds up turns and counts each container once" {
	run --separate-stderr bash -c 'cat "$0"/pause.ndjson "$0"/stream.ndjson "$0"/error.ndjson | ca-render' "$FIX"
	[ "$status" -eq 1 ]
	diff -u - <(sed -n '/^─ Summary of all 3 turns$/,$p' <<<"$output") <<'EOF'
─ Summary of all 3 turns
tokens: 10210 input, 912 output, 0 cache write, 0 cache read
3 responses, 3 code runs, 1 file edit, 1 error
container container_011CZkZaBF1tNoB5wlCeusgy expires 2026-11-18T13:04:05.123456Z
estimated cost: $0.0780 (tokens $0.0738, container time $0.0042: 1 × 5-minute minimum)
EOF
}

# A turn: its request (tools and user content given as JSON) and one
# response in container_1 with the given content blocks.
priced_turn() {
	jq -cn --argjson tools "$1" --argjson user "$2" \
		'{type:"request",custom_id:"p",betas:[],params:{model:"claude-opus-5-5",max_tokens:100,tools:$tools,messages:[{role:"user",content:$user}]}}'
	jq -cn --argjson content "$3" \
		'{type:"response",custom_id:"p",part:1,request_id:"req_1",attempts:1,message:{id:"msg_1",type:"message",role:"assistant",model:"claude-opus-5-5",content:$content,stop_reason:"end_turn",container:{id:"container_1",expires_at:"2026-11-18T13:04:05Z"},usage:{input_tokens:1000,output_tokens:100}}}'
}

@test "cost: container time is billed only for code run or files preloaded, never with the newer web tools" {
	ce='[{"type":"code_execution_20260521","name":"code_execution"}]'
	text='[{"type":"text","text":"hello"}]'
	ran='[{"type":"server_tool_use","id":"srvtoolu_1","name":"bash_code_execution","input":{"command":"ls"}},{"type":"bash_code_execution_tool_result","tool_use_id":"srvtoolu_1","content":{"type":"bash_code_execution_result","stdout":"","stderr":"","return_code":0,"content":[]}}]'
	up='[{"type":"text","text":"hi"},{"type":"container_upload","file_id":"file_1"}]'
	# No code ran, no file: tokens only ($0.0075), the container not billed.
	for fmt in text markdown html; do
		run --separate-stderr ca-render --color=never -f "$fmt" < <(priced_turn "$ce" '"hi"' "$text")
		[ "$status" -eq 0 ]
		grep -qF 'estimated cost: $0.0075 (tokens $0.0075, container time $0.0000: 0 × 5-minute minimum, 1 not billed)' <<<"$output"
	done
	# Code ran: the five-minute minimum, $0.05 an hour.
	run --separate-stderr ca-render --color=never < <(priced_turn "$ce" '"hi"' "$ran")
	grep -qxF 'estimated cost: $0.0117 (tokens $0.0075, container time $0.0042: 1 × 5-minute minimum)' <<<"$output"
	# A file preloaded is billed even when no code ran.
	run --separate-stderr ca-render --color=never < <(priced_turn "$ce" "$up" "$text")
	grep -qxF 'estimated cost: $0.0117 (tokens $0.0075, container time $0.0042: 1 × 5-minute minimum)' <<<"$output"
	# With web search or fetch 20260209 or later, code execution is free.
	for web in web_search_20260209 web_fetch_20260318; do
		run --separate-stderr ca-render --color=never < <(priced_turn "[{\"type\":\"$web\",\"name\":\"w\"}]" "$up" "$ran")
		grep -qxF 'estimated cost: $0.0075 (tokens $0.0075, container time $0.0000: 0 × 5-minute minimum, 1 not billed)' <<<"$output"
	done
	# An older web search does not make it free.
	run --separate-stderr ca-render --color=never < <(priced_turn '[{"type":"web_search_20250305","name":"w"}]' '"hi"' "$ran")
	grep -qxF 'estimated cost: $0.0117 (tokens $0.0075, container time $0.0042: 1 × 5-minute minimum)' <<<"$output"
}

@test "summary: responses of the batch tier are priced at half, and it says so" {
	jq -c 'if .type == "response" then .message.usage.service_tier = "batch" | .batch_id = "msgbatch_1" else . end' \
		"$FIX/blocks.ndjson" >batch.ndjson
	run --separate-stderr ca-render <batch.ndjson
	[ "$status" -eq 0 ]
	# Tokens $0.0436 at the standard rate become $0.0218; containers
	# cost the same.
	grep -qx 'estimated cost: \$0.0260 (tokens \$0.0218, 1 of 1 response at the batch rate, 50 %; container time \$0.0042: 1 × 5-minute minimum)' <<<"$output"
}

@test "batch records show their id, status, counts and expiry" {
	rec='{"type":"batch","batch":{"id":"msgbatch_01X","type":"message_batch","processing_status":"ended","request_counts":{"processing":0,"succeeded":3,"errored":1,"canceled":0,"expired":2},"expires_at":"2026-11-28T10:00:00Z"},"custom_ids":["a"],"betas":[]}'
	want='batch msgbatch_01X ended: 0 processing, 3 succeeded, 1 errored, 0 canceled, 2 expired; expires 2026-11-28T10:00:00Z'
	run --separate-stderr ca-render --color=never <<<"$rec"
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
	run --separate-stderr ca-render -f markdown <<<"$rec"
	[[ $output == *'batch `msgbatch_01X` ended: 0 processing, 3 succeeded, 1 errored, 0 canceled, 2 expired; expires 2026-11-28T10:00:00Z'* ]]
	refute grep -q 'unknown record' <<<"$output"
}

@test "summary: a model missing from the price table makes the cost unknown" {
	run --separate-stderr ca-render <"$FIX/unknown-model.ndjson"
	[ "$status" -eq 0 ]
	grep -qx 'estimated cost: unknown (no price for model claude-future-9)' <<<"$output"
	refute grep -q '\$' <<<"$output"
}

# ---- Bad input ----

@test "a bad line is reported with its line number; the rest is still shown; exit 1" {
	{ head -2 "$FIX/pause.ndjson"; echo 'not json'; echo '{"no":"type"}'; tail -1 "$FIX/pause.ndjson"; } >bad.ndjson
	run --separate-stderr ca-render <bad.ndjson
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "ca-render: <stdin>:3: not a JSON object, skipped" ]
	[ "${stderr_lines[1]}" = 'ca-render: <stdin>:4: record has no "type", skipped' ]
	grep -qx 'The job finished.' <<<"$output"
}

# ---- Colour ----

@test "colour: --color=always uses ANSI, even with NO_COLOR; never, a pipe and NO_COLOR do not" {
	run --separate-stderr ca-render --color=always <"$FIX/error.ndjson"
	[[ "$output" == *$'\e[31merror'* ]]
	[[ "$output" == *$'\e[0m'* ]]
	NO_COLOR=1 run --separate-stderr ca-render --color=always <"$FIX/pause.ndjson"
	[[ "$output" == *$'\e['* ]]
	run --separate-stderr ca-render -C always <"$FIX/pause.ndjson"
	[[ "$output" == *$'\e['* ]]
	run --separate-stderr ca-render --color <"$FIX/pause.ndjson"
	[[ "$output" == *$'\e['* ]]
	run --separate-stderr ca-render --color=never <"$FIX/pause.ndjson"
	[[ "$output" != *$'\e'* ]]
	run --separate-stderr ca-render <"$FIX/pause.ndjson"
	[[ "$output" != *$'\e'* ]]
	NO_COLOR=1 run --separate-stderr ca-render --color=auto <"$FIX/pause.ndjson"
	[[ "$output" != *$'\e'* ]]
	# Reports and raw modes never colour.
	run --separate-stderr ca-render --color=always -f markdown <"$FIX/pause.ndjson"
	[[ "$output" != *$'\e'* ]]
	run --separate-stderr ca-render --color=always -r <"$FIX/pause.ndjson"
	[ "$output" = "The job finished." ]
}

@test "colour: auto colours a terminal unless NO_COLOR is set or TERM is dumb" {
	command -v script >/dev/null || skip "script(1) is not installed"
	cp "$FIX/pause.ndjson" in.ndjson
	TERM=xterm script -qec 'ca-render <in.ndjson' /dev/null >tty.out </dev/null
	grep -q $'\e\\[' tty.out
	NO_COLOR=1 TERM=xterm script -qec 'ca-render <in.ndjson' /dev/null >tty.out </dev/null
	grep -q 'The job finished' tty.out
	refute grep -q $'\e' tty.out
	TERM=dumb script -qec 'ca-render <in.ndjson' /dev/null >tty.out </dev/null
	grep -q 'The job finished' tty.out
	refute grep -q $'\e' tty.out
}

# ---- Escaping ----

@test "escaping: ESC and other controls from the model and the code never reach the terminal raw" {
	run --separate-stderr ca-render --color=never <"$FIX/hostile.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\a'* ]]
	[[ "$output" != *$'\xc2\x9b'* ]]
	grep -qxF 'Plain \x1b[31mred\x1b[0m text <b>bold</b> & "quotes"' <<<"$output"
	grep -qxF '  title\x1b]0;owned\x07 clear\x1b[2J\u009b31m c1' <<<"$output"
	grep -qxF '  bell\x07' <<<"$output"
	# With colour on, every ESC left is one of our own SGR sequences.
	run --separate-stderr ca-render --color=always <"$FIX/hostile.ndjson"
	[[ "$output" == *$'\e['* ]]
	stripped=$(sed $'s/\e\\[[0-9;]*m//g' <<<"$output")
	[[ "$stripped" != *$'\e'* ]]
	grep -qF '\x1b]0;owned\x07' <<<"$stripped"
}

@test "escaping: malformed UTF-8 and DEL are shown as bytes; good UTF-8 passes" {
	response u1 "$(jq -cn '[{type: "text", text: "caf\u00e9 \u2713 del\u007f"}]')" >u.ndjson
	run --separate-stderr ca-render <u.ndjson
	grep -qxF 'café ✓ del\x7f' <<<"$output"
	# A lone continuation byte cannot come through JSON text, but through
	# a raw line it can: cJSON keeps it.
	printf '{"type":"response","custom_id":"u2","part":1,"message":{"model":"x","content":[{"type":"text","text":"bad \x80\xff end"}],"stop_reason":"end_turn"}}\n' >bad8.ndjson
	run --separate-stderr ca-render <bad8.ndjson
	grep -qxF 'bad \x80\xff end' <<<"$output"
}

# ---- -r and --stdout ----

@test "-r writes only the final text of each turn, raw" {
	run --separate-stderr ca-render -r <"$FIX/blocks.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "I'll look at the data first.
Revenue rises every month; the chart is attached." ]
	run --separate-stderr bash -c 'cat "$0"/pause.ndjson "$0"/empty.ndjson "$0"/stream.ndjson "$0"/error.ndjson | ca-render -r | od -c' "$FIX"
	[ "$status" -eq 0 ]
	expected=$(printf 'The job finished.\nI%sll check the uploaded file.\nThe file has 100 data rows; the chart is attached.\n' "'" | od -c)
	[ "$output" = "$expected" ]
}

@test "-r joins adjacent text blocks as written and keeps control bytes" {
	response c1 '[{"type":"text","text":"Paris is "},{"type":"text","text":"the \u001b[1mcapital\u001b[0m"},{"type":"server_tool_use","id":"s","name":"web_search","input":{}},{"type":"text","text":"Done"}]' >c.ndjson
	ca-render -r <c.ndjson >r.out
	printf 'Paris is the \033[1mcapital\033[0m\nDone\n' | cmp - r.out
}

@test "-r writes a turn that never finished when the input ends, and fails" {
	head -2 "$FIX/pause.ndjson" >paused.ndjson
	run --separate-stderr ca-render -r <paused.ndjson
	[ "$status" -eq 1 ]
	[ "$output" = "Starting a long job." ]
	[ "$stderr" = "ca-render: turn r4 was interrupted: it paused (pause_turn) and was never continued" ]
}

@test "--stdout writes exactly what the code printed, in order, raw" {
	cat "$FIX/blocks.ndjson" "$FIX/pause.ndjson" "$FIX/stream.ndjson" "$FIX/hostile.ndjson" |
		ca-render --stdout >s.out
	{
		printf '100\nwrote report.txt\nfinished\n101 data.csv\nsaved chart.png\n'
		printf 'title\033]0;owned\007 clear\033[2J\302\23331m c1\n'
		printf '%s\n' "<script>document.title='pwned'</script>" \
			"<img src=x onerror=\"document.title='pwned2'\">"
	} | cmp - s.out
	ca-render -s <"$FIX/stream.ndjson" >s2.out
	printf '101 data.csv\nsaved chart.png\n' | cmp - s2.out
}

# ---- Live streaming ----

@test "live: text, calls and results appear as their events arrive, before the stream ends" {
	mkfifo fifo
	ca-render <fifo >live.out 2>live.err 3>&- &
	pid=$!
	exec 4>fifo
	wait_for() {
		local i
		for i in $(seq 400); do
			grep -qF -- "$1" live.out && return 0
			sleep 0.05
		done
		echo "never saw: $1" >&2
		cat live.out >&2
		return 1
	}
	# Up to the command's last input_json_delta, before its stop.
	sed -n '1,8p' "$FIX/stream.ndjson" >&4
	wait_for "I'll check the uploaded file."
	refute grep -q 'wc -l' live.out
	kill -0 "$pid"
	# content_block_stop: the call is complete and shown.
	sed -n '9p' "$FIX/stream.ndjson" >&4
	wait_for '  wc -l data.csv'
	refute grep -q '101 data.csv' live.out
	# The result arrives whole in its content_block_start.
	sed -n '10p' "$FIX/stream.ndjson" >&4
	wait_for '  101 data.csv'
	kill -0 "$pid"
	refute grep -q 'stop reason' live.out
	sed -n '11,$p' "$FIX/stream.ndjson" >&4
	exec 4>&-
	wait "$pid"
	[ ! -s live.err ]
	# The response record that follows adds only its stop reason and usage.
	[ "$(grep -c "I'll check the uploaded file." live.out)" -eq 1 ]
	[ "$(grep -c 'The file has 100 data rows; the chart is attached.' live.out)" -eq 1 ]
	[ "$(grep -cx '  wc -l data.csv' live.out)" -eq 1 ]
	[ "$(grep -cx '  101 data.csv' live.out)" -eq 1 ]
	[ "$(grep -cx 'editor create /tmp/outputs/summary.txt' live.out)" -eq 1 ]
	[ "$(grep -cx 'output file file_011CNha8iCJcU1wXNR6q4V8w' live.out)" -eq 1 ]
	[ "$(grep -c '^stop reason end_turn' live.out)" -eq 1 ]
	grep -qx 'tokens: 5210 input, 412 output, 0 cache write, 0 cache read' live.out
}

@test "live: a slow writer's first text is out before the writer finishes" {
	# The writer pauses mid-stream (until woken, at most 30 s) and marks
	# when it goes on; the text must be out while the mark is absent.
	{
		sed -n '1,3p' "$FIX/stream.ndjson"
		sleep 30 &
		echo $! >sleep.pid
		wait
		: >writer.resumed
		sed -n '4,$p' "$FIX/stream.ndjson"
	} | ca-render >slow.out 3>&- &
	pid=$!
	early=0
	while [ ! -e writer.resumed ]; do
		if grep -q "I'll check the uploaded file." slow.out; then
			[ -e writer.resumed ] || early=1
			break
		fi
		sleep 0.05
	done
	[ "$early" -eq 1 ]
	refute grep -q 'stop reason' slow.out
	[ -s sleep.pid ] && kill "$(cat sleep.pid)" 2>/dev/null || true
	wait "$pid"
	[ "$(grep -c "I'll check the uploaded file." slow.out)" -eq 1 ]
	grep -q '^stop reason end_turn' slow.out
}

@test "live: the streamed turn reads the same as the plain response, block for block" {
	ca-render <"$FIX/stream.ndjson" >streamed.out
	tail -1 "$FIX/stream.ndjson" | ca-render >plain.out
	diff -u plain.out streamed.out
}

@test "live: a stream cut short shows the rest of its text from the response" {
	# Text block 7 gets its start and no delta: the response supplies it.
	grep -v '"index":7,"delta"' "$FIX/stream.ndjson" >cut.ndjson
	run --separate-stderr ca-render <cut.ndjson
	[ "$status" -eq 0 ]
	[ "$(grep -c 'The file has 100 data rows' <<<"$output")" -eq 1 ]
}

@test "reports: a stream without its response is assembled as far as it got" {
	sed -n '1,11p' "$FIX/stream.ndjson" >broken.ndjson
	run --separate-stderr ca-render -f markdown <broken.ndjson
	[ "$status" -eq 1 ]
	grep -qx 'the stream ended without a response; shown as far as it arrived' <<<"$output"
	grep -qx "I'll check the uploaded file." <<<"$output"
	grep -qx 'wc -l data.csv' <<<"$output"
	grep -qx '101 data.csv' <<<"$output"
	# The live view showed the same before the input ended.
	run --separate-stderr ca-render <broken.ndjson
	grep -qx '  101 data.csv' <<<"$output"
}

# ---- Interrupted turns ----

# interrupted FILE WHY: every view says the turn did not finish, and why;
# stderr says it once; the exit status is 1.
interrupted() {
	local fmt cid
	cid=$(jq -r '.custom_id // empty' "$1" | tail -1)
	for fmt in text markdown html; do
		run --separate-stderr ca-render --color=never -f "$fmt" <"$1"
		[ "$status" -eq 1 ]
		[ "$stderr" = "ca-render: turn $cid was interrupted: $2" ]
		case $fmt in
		text)	grep -qxF "interrupted: turn $cid did not finish: $2; what is shown is incomplete" <<<"$output" ;;
		markdown)	grep -qF "interrupted: turn \`$cid\` did not finish: $2; what is shown is incomplete" <<<"$output" ;;
		html)	grep -qF "interrupted: turn <code>$cid</code> did not finish: $2; what is shown is incomplete" <<<"$output" ;;
		esac
	done
}

@test "interrupted: a stream that stops before message_stop (ca-exec killed mid-stream)" {
	{ sed -n 1p "$FIX/pause.ndjson" | jq -c '.custom_id = "s1"'; sed -n '1,11p' "$FIX/stream.ndjson"; } >cut.ndjson
	interrupted cut.ndjson "its stream stopped before message_stop"
	run --separate-stderr ca-render --color=never <cut.ndjson
	grep -qx '  101 data.csv' <<<"$output"
}

@test "interrupted: a turn paused and never continued; a response without stop_reason" {
	head -2 "$FIX/pause.ndjson" >paused.ndjson
	interrupted paused.ndjson "it paused (pause_turn) and was never continued"
	jq -c 'del(.message.stop_reason)' "$FIX/empty.ndjson" >nostop.ndjson
	interrupted nostop.ndjson "its response has no stop_reason"
}

@test "interrupted: a request without a response among answered ones; a request alone is a preview" {
	{ cat "$FIX/empty.ndjson"; sed -n 1p "$FIX/pause.ndjson"; } >sent.ndjson
	interrupted sent.ndjson "no response came for its request"
	# ca-request's output alone was never sent: nothing is missing.
	run --separate-stderr ca-render --color=never < <(sed -n 1p "$FIX/pause.ndjson")
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	refute grep -q interrupted <<<"$output"
	# A request a batch still holds is pending, not interrupted.
	run --separate-stderr ca-render --color=never < <(cat "$FIX/empty.ndjson"; sed -n 1p "$FIX/pause.ndjson" | jq -c '.batch_id = "msgbatch_1"')
	[ "$status" -eq 0 ]
	# Finished turns, whole, are not.
	for f in blocks pause stream empty; do
		run --separate-stderr ca-render --color=never <"$FIX/$f.ndjson"
		[ "$status" -eq 0 ]
		refute grep -q interrupted <<<"$output"
	done
}

# ---- Markdown ----

@test "markdown: headings, fenced code with language, labelled outputs, images in place" {
	blocks_with_files
	run --separate-stderr ca-render -f markdown <blocks.ndjson
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "# ca session report" ]
	grep -qx '## Turn `r1`' <<<"$output"
	diff -u - <(sed -n '/^\*\*python\*\*$/,$p' <<<"$output" | sed '/^$/d' | head -15) <<'EOF'
**python**
```python
import pandas as pd
print(len(pd.read_csv('sales.csv')))
```
**stdout**
```text
100
```
**stderr**
```text
DeprecationWarning: old pandas
```
![chart.png](out/chart.png)
**python**
EOF
	grep -qx '```bash' <<<"$output"
	grep -qx '\[report.txt\](out/report.txt)' <<<"$output"
	grep -qx '```diff' <<<"$output"
	grep -qx 'tool error `execution_time_exceeded`: the code ran past its time limit' <<<"$output"
	grep -qx "I'll look at the data first." <<<"$output"
	# One turn: its summary, not a second one for the whole input.
	grep -qx '### Summary of turn `r1`' <<<"$output"
	refute grep -q '^## Summary of' <<<"$output"
	grep -qx 'estimated cost: \$0.0478 (tokens \$0.0436, container time \$0.0042: 1 × 5-minute minimum)' <<<"$output"
}

@test "markdown: a fence outgrows backticks in the output; errors and requests show" {
	response m1 '[{"type":"bash_code_execution_tool_result","tool_use_id":"s","content":{"type":"bash_code_execution_result","stdout":"```\nnot a fence\n````\n","stderr":"","return_code":0,"content":[]}}]' >m.ndjson
	cat "$FIX/error.ndjson" >>m.ndjson
	run --separate-stderr ca-render -f markdown <m.ndjson
	[ "$status" -eq 1 ]
	diff -u - <(sed -n '/^\*\*stdout\*\*$/,/^`````$/p' <<<"$output") <<'EOF'
**stdout**

`````text
```
not a fence
````
`````
EOF
	grep -qx '## Turn `r2`' <<<"$output"
	grep -qx '> Summarise the data' <<<"$output"
	grep -qx 'error 400 `invalid_request_error`: max\\_tokens: field required' <<<"$output"
}

# ---- HTML ----

@test "html: one self-contained document with a CSP and no script" {
	blocks_with_files
	run --separate-stderr ca-render -f html <blocks.ndjson
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "<!DOCTYPE html>" ]
	[ "${lines[-1]}" = "</html>" ]
	grep -qF "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">" <<<"$output"
	refute grep -qi '<script' <<<"$output"
	refute grep -qi '<link' <<<"$output"
	# Nothing is loaded from anywhere: every src is a data: URI.
	[ "$(grep -o 'src="[^"]*' <<<"$output" | grep -vc '^src="data:')" -eq 0 ]
	grep -qF '<h2>Turn <code>r1</code></h2>' <<<"$output"
	grep -qF '<code class="language-python">import pandas as pd' <<<"$output"
	grep -qF '<code class="language-bash">ls missing; python3 report.py</code>' <<<"$output"
	grep -qF '<div class="blk stderr"><div class="label">stderr</div><pre><code>DeprecationWarning: old pandas' <<<"$output"
	grep -qF '<p class="note err">return code 2</p>' <<<"$output"
	grep -qF '<a href="out/report.txt">report.txt</a>' <<<"$output"
	grep -qF '<div class="text">Revenue rises every month; the chart is attached.</div>' <<<"$output"
	grep -qF '<h3>Summary of turn <code>r1</code></h3>' <<<"$output"
	refute grep -qF '<h2>Summary of' <<<"$output"
}

@test "html: a fetched image is embedded as a base64 data: URI after its result" {
	blocks_with_files
	ca-render -f html <blocks.ndjson >r.html
	b64=$(base64 -w0 out/chart.png)
	grep -qF "<figure><img alt=\"chart.png\" src=\"data:image/png;base64,$b64\">" r.html
	[ "$(grep -c '<img' r.html)" -eq 1 ]
	# In place: after the first result's stderr, before the second call.
	img=$(grep -n '<img' r.html | cut -d: -f1)
	err=$(grep -n 'DeprecationWarning' r.html | cut -d: -f1)
	enc=$(grep -n 'search(&#39;revenue&#39;)' r.html | cut -d: -f1)
	[ "$err" -lt "$img" ] && [ "$img" -lt "$enc" ]
}

@test "html: images that are missing, too large, changed or symlinks are linked, not embedded" {
	blocks_with_files
	mv out/chart.png real.png
	ln -s ../real.png out/chart.png
	run --separate-stderr ca-render -f html <blocks.ndjson
	refute grep -q '<img' <<<"$output"
	grep -qF '<a href="out/chart.png">' <<<"$output"
	rm out/chart.png
	cp real.png out/chart.png
	printf 'x' >>out/chart.png
	run --separate-stderr ca-render -f html <blocks.ndjson
	grep -qF '<p class="note warn">changed since it was fetched; not embedded: <a href="out/chart.png">' <<<"$output"
	rm out/chart.png
	run --separate-stderr ca-render -f html <blocks.ndjson
	grep -qF '<p class="note warn">No such file or directory: <a href="out/chart.png">' <<<"$output"
	[ "$status" -eq 0 ]
	head -c $((21 * 1024 * 1024)) /dev/zero >out/chart.png
	jq -c 'if .file.filename == "chart.png" then .size = 22020096 else . end' blocks.ndjson >big.ndjson
	run --separate-stderr ca-render -f html <big.ndjson
	grep -qF '<p class="note warn">too large to embed: <a href="out/chart.png">' <<<"$output"
	[ "${#output}" -lt 100000 ]
}

@test "html: parts of a paused turn, and an SVG known by its extension is linked, not embedded" {
	mkdir -p out
	printf '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>' >out/plot.svg
	{
		cat "$FIX/pause.ndjson"
		jq -cn --argjson n "$(stat -c %s out/plot.svg)" '{type: "fetched", custom_id: "r4",
			file: {id: "file_svg", filename: "plot.svg"}, path: "out/plot.svg", sha256: "00", size: $n}'
	} >svg.ndjson
	run --separate-stderr ca-render -f html <svg.ndjson
	[ "$status" -eq 0 ]
	grep -qF '<h3>Part 2</h3>' <<<"$output"
	grep -qF '<p class="note warn">paused; continuing (part 2)</p>' <<<"$output"
	# SVG may hold scripts: it is linked, never embedded.
	grep -qF '<p class="note warn">an SVG image is linked, never embedded: <a href="out/plot.svg">out/plot.svg</a></p>' <<<"$output"
	refute grep -q 'data:image/svg' <<<"$output"
	refute grep -q '<img' <<<"$output"
}

@test "html: everything from the model, code, server and files is escaped" {
	run --separate-stderr ca-render -f html <"$FIX/hostile.ndjson"
	[ "$status" -eq 0 ]
	refute grep -qi '<script' <<<"$output"
	refute grep -qi '<img src=x' <<<"$output"
	refute grep -q '<b>' <<<"$output"
	grep -qF '&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;' <<<"$output"
	grep -qF '&lt;img src=x onerror=&quot;document.title=&#39;pwned2&#39;&quot;&gt;' <<<"$output"
	grep -qF '<div class="text">Plain \x1b[31mred\x1b[0m text &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot;</div>' <<<"$output"
	grep -qF '<h2>Turn <code>h1&lt;script&gt;</code></h2>' <<<"$output"
	grep -qF 'show &lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;' <<<"$output"
	# A hostile path stays inside its attribute.
	grep -qF '<a href="out/x%22%3E%3Cscript%3Ealert%284%29%3C/script%3E.png">' <<<"$output"
	[[ "$output" != *$'\e'* ]]
}

# ---- In a browser ----

chromium_run() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$BATS_TEST_TMPDIR/chrome.XXXXXX")" \
		"$@" 2>/dev/null </dev/null
}

# A page that loads a report in a frame and writes what it finds there.
write_probe() {
	cat >"$1" <<EOF
<!DOCTYPE html>
<html><head><title>probe</title></head><body><pre id="result">pending</pre>
<iframe id="f" src="$2" width="1000" height="800"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, out = [], i;
  if (!d) { document.getElementById('result').textContent = 'no-access'; return; }
  out.push('title=' + d.title);
  out.push('scripts=' + d.getElementsByTagName('script').length);
  out.push('images=' + d.images.length);
  for (i = 0; i < d.images.length; i++)
    out.push('img' + i + '=' + d.images[i].naturalWidth + 'x' + d.images[i].naturalHeight);
  document.getElementById('result').textContent = out.join(' ');
});
</script></body></html>
EOF
}

@test "browser: the report renders, its image loads and no script runs" {
	[ -x /usr/bin/chromium ] || skip "chromium is not installed (tools/deps.sh installs it)"
	blocks_with_files
	cat blocks.ndjson "$FIX/hostile.ndjson" | ca-render -f html >report.html || true
	# A screenshot: the page renders at all.
	chromium_run --screenshot="$PWD/shot.png" --window-size=1024,2000 "file://$PWD/report.html"
	[ "$(head -c 8 shot.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]
	[ "$(stat -c %s shot.png)" -gt 20000 ]
	# The DOM as served: the injected script is text, the title ours.
	chromium_run --run-all-compositor-stages-before-draw --virtual-time-budget=2000 \
		--dump-dom "file://$PWD/report.html" >dom.html
	grep -qF '<title>ca session report</title>' dom.html
	grep -qF '&lt;script&gt;document.title=\x27pwned\x27&lt;/script&gt;' dom.html ||
		grep -qF "&lt;script&gt;document.title='pwned'&lt;/script&gt;" dom.html
	refute grep -qi '<script' dom.html
	# From outside: the image decoded, no script element, the title unchanged.
	write_probe probe.html report.html
	chromium_run --allow-file-access-from-files --run-all-compositor-stages-before-draw \
		--virtual-time-budget=3000 --dump-dom "file://$PWD/probe.html" >probe.out
	grep -qF 'title=ca session report scripts=0 images=1 img0=64x48' probe.out
}

@test "browser: the probe sees a script run and a broken image when there is one" {
	[ -x /usr/bin/chromium ] || skip "chromium is not installed (tools/deps.sh installs it)"
	# The same probe against a bad page must fail the checks above, or
	# they prove nothing.
	cat >bad.html <<'EOF'
<!DOCTYPE html><html><head><title>ca session report</title></head><body>
<img src="data:image/png;base64,AAAA"><script>document.title='pwned'</script></body></html>
EOF
	write_probe probe.html bad.html
	chromium_run --allow-file-access-from-files --run-all-compositor-stages-before-draw \
		--virtual-time-budget=3000 --dump-dom "file://$PWD/probe.html" >probe.out
	grep -qF 'title=pwned scripts=1 images=1 img0=0x0' probe.out
}

@test "html embeds only files whose bytes are an image of their type" {
	printf 'root:x:0:0:not an image\n' >secret.png
	n=$(wc -c <secret.png)
	rec=$(jq -cn --argjson n "$n" '{type: "fetched", custom_id: "r1", path: "secret.png", sha256: "0", size: $n,
		file: {id: "file_s", filename: "secret.png", mime_type: "image/png", size_bytes: $n}}')
	run --separate-stderr ca-render --format html <<<"$rec"
	[ "$status" -eq 0 ]
	refute grep -q 'data:image/png' <<<"$output"
	grep -q 'not an image of its type; not embedded' <<<"$output"
}

# A fetched record for path $2 under file id $1, with the size of the
# file there (if it has one).
fetched() {
	local n=-1
	[ -f "$2" ] && [ ! -L "$2" ] && n=$(stat -c %s "$2")
	jq -cn --arg id "$1" --arg p "$2" --argjson n "$n" '{type: "fetched",
		custom_id: "r1", file: {id: $id, filename: ($p | sub(".*/"; ""))},
		path: $p, sha256: "00", size: $n} | if .size < 0 then del(.size) else . end'
}

# In rep/: good.png, and around it every way out a record may try.
hostile_tree() {
	make_png 8 8 secret.png
	mkdir -p rep/d
	make_png 4 4 rep/good.png
	ln -s ../secret.png rep/link.png
	ln -s .. rep/up
	mkfifo rep/fifo.png
	printf 'root:x:0:0:not an image\n' >'rep/fa<b>ke.png'
	printf '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' >rep/plot.svg
}

# The note for a file not embedded: note WHY PATH (PATH as it is in href).
note() {
	grep -qF "<p class=\"note warn\">$1: <a href=\"$2\">" <<<"$output" || {
		echo "no note \"$1\" for $2" >&2
		return 1
	}
}

@test "html embeds only regular image files inside the current directory" {
	hostile_tree
	cd rep
	{
		fetched f1 good.png
		fetched f2 "$PWD/good.png"
		fetched f3 ../secret.png
		fetched f4 "$(cd .. && pwd)/secret.png"
		fetched f5 link.png
		fetched f6 up/secret.png
		fetched f7 d/../good.png
		fetched f8 fifo.png
		fetched f9 'fa<b>ke.png'
		fetched f10 plot.svg
	} >in
	run --separate-stderr timeout 60 ca-render -f html <in
	[ "$status" -eq 0 ]
	# The good PNG, by its relative and its absolute name; nothing else.
	[ "$(grep -c '<img' <<<"$output")" -eq 2 ]
	[ "$(grep -cF "src=\"data:image/png;base64,$(base64 -w0 good.png)\"" <<<"$output")" -eq 2 ]
	refute grep -qF "$(base64 -w0 ../secret.png)" <<<"$output"
	refute grep -qF "$(base64 -w0 'fa<b>ke.png')" <<<"$output"
	refute grep -q 'data:image/svg' <<<"$output"
	# Each of the others says why.
	note 'a .. in its path; not embedded' ../secret.png
	note 'outside the directory to embed from; not embedded' "$(cd .. && pwd)/secret.png"
	note 'a symbolic link; not embedded' link.png
	note 'a symbolic link in its path; not embedded' up/secret.png
	note 'a .. in its path; not embedded' d/../good.png
	note 'not a regular file; not embedded' fifo.png
	note 'not an image of its type; not embedded' 'fa%3Cb%3Eke.png'
	grep -qF '<a href="fa%3Cb%3Eke.png">fa&lt;b&gt;ke.png</a>' <<<"$output"
	note 'an SVG image is linked, never embedded' plot.svg
	refute grep -q '<script' <<<"$output"
	[ -z "$stderr" ]
}

@test "html -d DIR embeds only from DIR, by relative and absolute names" {
	hostile_tree
	make_png 4 4 other.png
	{
		fetched f1 rep/good.png
		fetched f2 "$PWD/rep/good.png"
		fetched f3 other.png
		fetched f4 "$PWD/other.png"
		fetched f5 rep/../secret.png
		fetched f6 rep/up/secret.png
	} >in
	run --separate-stderr ca-render -d rep -f html <in
	[ "$status" -eq 0 ]
	[ "$(grep -c '<img' <<<"$output")" -eq 2 ]
	[ "$(grep -cF "src=\"data:image/png;base64,$(base64 -w0 rep/good.png)\"" <<<"$output")" -eq 2 ]
	note 'outside the directory to embed from; not embedded' other.png
	note 'outside the directory to embed from; not embedded' "$PWD/other.png"
	note 'a .. in its path; not embedded' rep/../secret.png
	note 'a symbolic link in its path; not embedded' rep/up/secret.png
	# An absolute DIR, and the long option, do the same.
	run --separate-stderr ca-render --dir="$PWD/rep" -f html <in
	[ "$status" -eq 0 ]
	[ "$(grep -c '<img' <<<"$output")" -eq 2 ]
	# Without -d the current directory holds them all: other.png too.
	run --separate-stderr ca-render -f html <in
	[ "$(grep -c '<img' <<<"$output")" -eq 4 ]
	refute grep -qF "$(base64 -w0 secret.png)" <<<"$output"
}

@test "html: a directory named by a symbolic link and \$PWD still matches absolute names" {
	hostile_tree
	ln -s rep alias
	cd alias
	fetched f1 "$BATS_TEST_TMPDIR/alias/good.png" >in
	fetched f2 "$(pwd -P)/good.png" >>in
	run --separate-stderr env PWD="$BATS_TEST_TMPDIR/alias" ca-render -f html <in
	[ "$status" -eq 0 ]
	[ "$(grep -c '<img' <<<"$output")" -eq 2 ]
	# Without $PWD only the canonical name is known.
	run --separate-stderr env -u PWD ca-render -f html <in
	[ "$(grep -c '<img' <<<"$output")" -eq 1 ]
	note 'outside the directory to embed from; not embedded' "$BATS_TEST_TMPDIR/alias/good.png"
}

@test "markdown links fetched files and reads none of them" {
	hostile_tree
	cd rep
	{ fetched f1 good.png; fetched f3 ../secret.png; fetched f8 fifo.png; } >in
	run --separate-stderr timeout 60 ca-render -f markdown <in
	[ "$status" -eq 0 ]
	grep -qF '![good.png](good.png)' <<<"$output"
	grep -qF '](../secret.png)' <<<"$output"
	refute grep -q 'base64' <<<"$output"
}

@test "a streamed tool call that starts without an input key is still shown" {
	ev() { jq -cn --argjson e "$1" '{type: "event", custom_id: "r1", part: 1, event: $e}'; }
	{
		ev '{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-opus-5-5","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}'
		ev '{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s1","name":"code_execution"}}'
		ev '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"code\":\"print(42)\"}"}}'
		ev '{"type":"content_block_stop","index":0}'
	} >in
	run --separate-stderr ca-render --color=never <in
	# Shown, and the turn, cut before message_stop, is a failure.
	[ "$status" -eq 1 ]
	[[ "$output" == *"print(42)"* ]]
}

@test "an upload's error record is shown with its path, outside any turn" {
	e='{"type":"error","path":"no\u001b[31msuch.csv","status":null,"request_id":null,"error":{"type":"file_error","message":"No such file or directory"}}'
	run --separate-stderr ca-render --color=never <<<"$e"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = 'not uploaded no\x1b[31msuch.csv: error file_error: No such file or directory' ]
	# Counted in a summary of its own, as no turn's summary has it.
	[ "${lines[1]}" = '─ Summary of the run' ]
	[ "${lines[2]}" = 'no response, 1 error' ]
	run --separate-stderr ca-render -f markdown <<<"$e"
	[ "$status" -eq 1 ]
	grep -qx '## Uploaded files' <<<"$output"
	[ "$(grep -A2 -x '## Summary of the run' <<<"$output" | tail -1)" = 'no response, 1 error' ]
	grep -qF 'not uploaded `no\x1b[31msuch.csv`: error `file_error`: No such file or directory' <<<"$output"
	refute grep -q 'Turn' <<<"$output"
}

@test "-o: the report's links to fetched files are relative to the report" {
	blocks_with_files
	run --separate-stderr ca-render -f html -o out/report.html <blocks.ndjson
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -qF '<a href="report.txt">report.txt</a>' out/report.html
	# The image is still found (from the working directory) and embedded.
	[ "$(grep -c '<img' out/report.html)" -eq 1 ]
	mkdir -p sub/deep
	ca-render -f markdown --output=sub/deep/r.md <blocks.ndjson
	grep -qx '\[report.txt\](../../out/report.txt)' sub/deep/r.md
	ca-render -f html -o "$PWD/r.html" <blocks.ndjson
	grep -qF '<a href="out/report.txt">report.txt</a>' r.html
	# Without -o, the report is taken to be in the working directory.
	run --separate-stderr ca-render -f html <blocks.ndjson
	grep -qF '<a href="out/report.txt">report.txt</a>' <<<"$output"
}

@test "html: code in a pre block has no inline-code padding or background" {
	run --separate-stderr ca-render -f html <"$FIX/blocks.ndjson"
	grep -qF 'pre code{background:none;padding:0}' <<<"$output"
	# It comes after the inline rule, so it wins.
	[ "$(grep -n 'pre code{' <<<"$output" | cut -d: -f1)" -gt "$(grep -n '^code{' <<<"$output" | cut -d: -f1)" ]
}

@test "a file ca-fetch could not fetch and a tool that did not run: shown and counted" {
	# A turn, the error ca-fetch wrote for its file, and the record of
	# a tool that refused to run (no custom_id: no turn's).
	run --separate-stderr ca-render --color=never <"$CA_ROOT/t/fixtures/fetch-errors.ndjson"
	[ "$status" -eq 1 ]
	grep -qx 'not fetched file_gone: error 404 not_found_error: File not found: file_gone' <<<"$output"
	grep -qx 'ca-files did not run: error environment_error: no API key: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)' <<<"$output"
	refute grep -q 'no custom_id' <<<"$output"
	# The turn's summary came before them; the run's counts both.
	[ "$(grep -A2 -x '─ Summary of the run' <<<"$output" | tail -1)" = '1 response, 0 code runs, 0 file edits, 2 errors' ]
	run --separate-stderr ca-render -f markdown <"$CA_ROOT/t/fixtures/fetch-errors.ndjson"
	[ "$status" -eq 1 ]
	grep -qxF 'not fetched `file_gone`: error 404 `not_found_error`: File not found: file\_gone' <<<"$output"
	grep -qxF '`ca-files` did not run: error `environment_error`: no API key: set ANTHROPIC\_API\_KEY (or ANTHROPIC\_AUTH\_TOKEN)' <<<"$output"
	# The turn counts its file's error; the run counts both.
	[ "$(grep -A4 -x '### Summary of turn `r1`' <<<"$output" | tail -1)" = '1 response, 0 code runs, 0 file edits, 1 error' ]
	[ "$(grep -A4 -x '## Summary of the run' <<<"$output" | tail -1)" = '1 response, 0 code runs, 0 file edits, 2 errors' ]
}
