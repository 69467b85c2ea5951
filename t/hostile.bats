#!/usr/bin/env bats
# Hostile text from records, servers, file names and the environment
# never reaches the terminal raw: every message path of every tool is
# fed ESC sequences (SGR and OSC 52, which writes the clipboard), a C1
# CSI, an invalid UTF-8 byte and a CR, and stderr must hold none of them.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# The hostile text as bytes (for argv and file names) ...
H=$'A\e[31mB\e]52;c;aGk=\aC\xc2\x9bD\xffE\rF'
# ... inside a JSON string of a record (raw 0xff: JSON cannot escape it) ...
RJ='A\u001b[31mB\u001b]52;c;aGk=\u0007C\u009bD'$'\xff''E\rF'
# ... in an emulator rule (U+DCFF is sent as the raw byte 0xff) ...
EJ='A\u001b[31mB\u001b]52;c;aGk=\u0007C\u009bD\udcffE\rF'
# ... and in a header, which cannot hold a CR.
HJ='A\u001b[31mB\u001b]52;c;aGk=\u0007C\u009bD\udcffE'
# What a person sees instead: every unsafe byte as \xNN.
S='A\x1b[31mB\x1b]52;c;aGk=\x07C\xc2\x9bD\xffE\x0dF'
SH='A\x1b[31mB\x1b]52;c;aGk=\x07C\xc2\x9bD\xffE'

# Fail, naming the byte, if stdin holds a C0 control other than TAB and
# LF, DEL, a C1 control or invalid UTF-8.
clean() {
	python3 -c '
import sys
b = sys.stdin.buffer.read()
for i, c in enumerate(b):
    if (c < 0x20 and c not in (9, 10)) or c == 0x7f:
        sys.exit("raw control byte 0x%02x at %d" % (c, i))
try:
    s = b.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("invalid UTF-8: %s" % e)
for i, ch in enumerate(s):
    if 0x80 <= ord(ch) <= 0x9f:
        sys.exit("C1 control U+%04X at character %d" % (ord(ch), i))
'
}

# stderr of the last run is clean and shows the hostile text escaped ($1).
shown_clean() {
	printf '%s' "$stderr" | clean
	[[ "$stderr" == *"${1:-$S}"* ]] || {
		printf 'stderr: %s\n' "$stderr" | cat -v >&2
		return 1
	}
}

# A request record for turn x with the hostile custom_id.
hostile_req() {
	ca-request -n -i x "$@" | python3 -c '
import sys
d = sys.stdin.buffer.read()
cid = sys.argv[1].encode("utf-8", "surrogateescape")
sys.stdout.buffer.write(d.replace(b"\"custom_id\":\"x\"", b"\"custom_id\":\"" + cid + b"\""))
' "$RJ"
}

steps() {
	local i
	printf 'run these:\n'
	for i in $(seq "$1"); do
		printf '```python\nprint(%d)\n```\n' "$i"
	done
}

@test "the checker finds every kind of hostile byte, and passes clean text" {
	printf 'ok \t tab, é, \\x1b\n' | clean
	refute clean <<<$'\e[31m'
	refute clean <<<$'\e]52;c;aGk=\a'
	refute clean <<<$'\xc2\x9b'
	refute clean <<<$'\xff'
	refute clean <<<$'a\rb'
	refute clean <<<$'\x7f'
}

# ---- ca-exec ----

@test "ca-exec: a failed request names its hostile custom_id, request-id and message" {
	hostile_req hi >req
	emu_fault "{\"path\":\"/v1/messages\",\"status\":400,\"headers\":{\"request-id\":\"$HJ\"},\"body\":{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"$EJ\"}}}"
	run --separate-stderr ca-exec <req
	[ "$status" -eq 1 ]
	shown_clean "$S: 400 invalid_request_error: $S (request-id $SH)"
}

@test "ca-exec -v: the retry note names the hostile custom_id, request-id and message" {
	hostile_req hi >req
	emu_fault "{\"path\":\"/v1/messages\",\"status\":529,\"headers\":{\"retry-after\":\"0\",\"request-id\":\"$HJ\"},\"body\":{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"$EJ\"}}}"
	run --separate-stderr ca-exec -v <req
	[ "$status" -eq 0 ]
	shown_clean "$S: 529 overloaded_error: $S (request-id $SH); retry 1 of 2"
}

@test "ca-exec -v: pause_turn notes and the give-up warning name the hostile custom_id" {
	emu_config '{"pause_each_step":true}'
	hostile_req "$(steps 3)" >req
	run --separate-stderr ca-exec -v --max-continues 1 <req
	[ "$status" -eq 1 ]
	shown_clean "$S: pause_turn; continuing (part 2)"
	[[ "$stderr" == *"$S: still paused after 1 continuations; giving up"* ]]
}

@test "ca-exec -v: --no-pace: the rate limit note names the hostile custom_id" {
	reset=$(date -u -d '+30 sec' +%Y-%m-%dT%H:%M:%SZ)
	hostile_req hi >req
	emu_fault "{\"path\":\"/v1/messages\",\"headers\":{\"anthropic-ratelimit-requests-remaining\":\"0\",\"anthropic-ratelimit-requests-reset\":\"$reset\"}}"
	run --separate-stderr ca-exec -v --no-pace <req
	[ "$status" -eq 0 ]
	shown_clean "$S: request rate limit reached; holding new requests"
}

# ---- ca-request ----

# A finished turn whose container (id $1, expiry $2), model ($3) and
# tool type ($4) come from the transcript.
transcript() {
	printf '{"type":"request","custom_id":"%s","params":{"model":"%s","max_tokens":50,"messages":[{"role":"user","content":"first"}],"tools":[{"type":"%s","name":"code_execution"}]}}\n' \
		"$5" "$3" "$4"
	printf '{"type":"response","custom_id":"%s","part":1,"message":{"id":"m1","type":"message","role":"assistant","content":[{"type":"text","text":"A"}],"stop_reason":"end_turn","container":{"id":"%s","expires_at":"%s"}}}\n' \
		"$5" "$1" "$2"
}

@test "ca-request --continue: a hostile container id and expiry from the transcript" {
	transcript "c$RJ" "2020-01-01T00:00:00Z$RJ" claude-opus-5-5 code_execution_20250825 r1 >t.ndjson
	run --separate-stderr ca-request -C next <t.ndjson
	[ "$status" -eq 1 ]
	shown_clean "container c$S expired at 2020-01-01T00:00:00Z$S; use --fresh-container"
	run --separate-stderr ca-request -C --fresh-container next <t.ndjson
	[ "$status" -eq 0 ]
	shown_clean "container c$S expired at 2020-01-01T00:00:00Z$S; starting a fresh one"
}

@test "ca-request --continue: a hostile model and tool type from the transcript" {
	transcript c1 2099-01-01T00:00:00Z "m$RJ" code_execution_20250825 r1 >t.ndjson
	run --separate-stderr ca-request -C next <t.ndjson
	[ "$status" -eq 2 ]
	shown_clean "unknown model m$S"
	transcript c1 2099-01-01T00:00:00Z claude-opus-5-5 "code_execution_$RJ" r1 >t.ndjson
	run --separate-stderr ca-request -C next <t.ndjson
	[ "$status" -eq 2 ]
	shown_clean "unknown tool version code_execution_$S"
}

@test "ca-request --continue: a hostile custom_id of a turn without a response" {
	printf '{"type":"request","custom_id":"%s","params":{"model":"claude-opus-5-5","messages":[]}}\n' "$RJ" >t.ndjson
	run --separate-stderr ca-request -C next <t.ndjson
	[ "$status" -eq 0 ]
	shown_clean "skipped the failed turn $S (no response)"
}

@test "ca-request: a hostile prompt file name and CA_MODEL" {
	run --separate-stderr ca-request -n -f "$H.md"
	[ "$status" -eq 2 ]
	shown_clean "$S.md: No such file or directory"
	run --separate-stderr env CA_MODEL="m$H" ca-request -n hi
	[ "$status" -eq 2 ]
	shown_clean "unknown model m$S"
}

# ---- ca-upload ----

@test "ca-upload: hostile file names in errors and notes" {
	run --separate-stderr ca-upload -n "$H.missing"
	[ "$status" -eq 1 ]
	shown_clean "$S.missing: No such file or directory"
	mkfifo "$H.fifo"
	run --separate-stderr ca-upload -n "$H.fifo"
	[ "$status" -eq 1 ]
	shown_clean "$S.fifo: not a regular file"
	printf 'a,b\n1,2\n' >"$H.csv"
	run --separate-stderr ca-upload -n -v "$H.csv"
	[ "$status" -eq 0 ]
	shown_clean "$S.csv: uploaded as file_"
}

@test "ca-upload: a hostile error message and request-id from the server" {
	printf 'a,b\n1,2\n' >data.csv
	emu_fault "{\"path\":\"/v1/files\",\"status\":400,\"headers\":{\"request-id\":\"$HJ\"},\"body\":{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"$EJ\"}}}"
	run --separate-stderr ca-upload -n data.csv
	[ "$status" -eq 1 ]
	shown_clean "400 invalid_request_error: $S (request-id $SH)"
}

# ---- ca-fetch ----

@test "ca-fetch -v: a hostile file name from the server" {
	id=$(printf '{"filename":"%s.txt","content_b64":"aGVsbG8="}' "$EJ" |
		curl -sf -X POST -H 'content-type: application/json' --data-binary @- "$EMU_URL/_emu/files" | jq -r .id)
	run --separate-stderr ca-fetch -v -d out --id "$id"
	[ "$status" -eq 0 ]
	shown_clean "\"$S.txt\""
}

@test "ca-fetch: a hostile error message and request-id from the server" {
	emu_fault "{\"path\":\"/v1/files/*\",\"status\":404,\"headers\":{\"request-id\":\"$HJ\"},\"body\":{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"$EJ\"}}}"
	run --separate-stderr ca-fetch -d out --id file_nope
	[ "$status" -eq 1 ]
	shown_clean "404 not_found_error: $S (request-id $SH)"
}

@test "ca-fetch: a hostile -d directory that cannot be made" {
	: >"$H"
	run --separate-stderr ca-fetch -d "$H/sub" --id file_nope
	[ "$status" -ne 0 ]
	shown_clean "$S/sub"
}

@test "ca-fetch: the progress line shows a hostile directory escaped" {
	id=$(curl -sf -X POST -H 'content-type: application/json' \
		--data-binary '{"filename":"big.bin","size":2000000}' "$EMU_URL/_emu/files" | jq -r .id)
	mkdir "$H"
	# The progress line is drawn only on a terminal: give it one.
	export D="$H"
	run script -qec "ca-fetch -d \"\$D\" --id $id >/dev/null" /dev/null
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$H/big.bin")" -eq 2000000 ]
	[[ "$output" == *"$S/big.bin"* ]] || { printf '%s\n' "$output" | cat -v >&2; false; }
	# The terminal's own line ends (CR LF) and the line's redraws are ours.
	printf '%s' "$output" | tr -d '\r' | clean
}

# ---- ca-files ----

@test "ca-files: a hostile error message and request-id from the server" {
	emu_fault "{\"path\":\"/v1/files\",\"status\":400,\"headers\":{\"request-id\":\"$HJ\"},\"body\":{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"$EJ\"}}}"
	run --separate-stderr ca-files
	[ "$status" -eq 1 ]
	shown_clean "list: 400 invalid_request_error: $S (request-id $SH)"
}

@test "ca-files -d: a hostile file id from a record" {
	printf '{"type":"file","file":{"id":"%s"}}\n' "$RJ" >in
	run --separate-stderr ca-files -d <in
	[ "$status" -eq 1 ]
	shown_clean "$S: 404 not_found_error"
}

# ---- ca-render ----

@test "ca-render: a hostile --format value" {
	run --separate-stderr ca-render -f "$H" </dev/null
	[ "$status" -eq 2 ]
	shown_clean "unknown format \"$S\""
}

@test "ca-render: a hostile program name (argv[0])" {
	ln -s "$CA_ROOT/ca-render" "$H"
	run --separate-stderr "./$H" -f nope </dev/null
	[ "$status" -eq 2 ]
	shown_clean "$S: unknown format"
	# The usage message names the program too.
	run --separate-stderr "./$H" -x </dev/null
	[ "$status" -eq 2 ]
	shown_clean "usage: $S "
}

# ---- ca-chat ----

@test "ca-chat: a hostile prompt reaches only sanitized messages" {
	emu_fault "{\"path\":\"/v1/messages\",\"status\":400,\"headers\":{\"request-id\":\"$HJ\"},\"body\":{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"$EJ\"}}}"
	# Its 0xff is not UTF-8: ca-request refuses it, and nothing is sent.
	run --separate-stderr ca-chat -t t.ndjson <<<"$H"
	shown_clean "the prompt: not UTF-8 text (byte 23 is 0xff)"
	printf '%s' "$output" | clean
	[ "$(emu_log /v1/messages | wc -l)" -eq 0 ]
	# The rest of it is sent, and the server's hostile error shown clean.
	run --separate-stderr ca-chat -t t2.ndjson <<<"${H/$'\xff'/}"
	shown_clean "400 invalid_request_error: $S (request-id $SH)"
	printf '%s' "$output" | clean
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
}

@test "ca-upload: the progress bar shows a hostile file name escaped, cut between characters" {
	head -c 2000000 /dev/zero >"$H.bin"
	# 23 bytes, then a 2-byte character that a cut at 24 bytes would split.
	head -c 2000000 /dev/zero >abcdefghijklmnopqrstuvwé.bin
	# The bar is drawn only on a terminal: give it one.
	export N="$H.bin"
	run script -qec 'ca-upload -n "$N" abcdefghijklmnopqrstuvwé.bin >/dev/null' /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *'A\x1b[31mB\x1b]52;c;aGk'* ]] || { printf '%s\n' "$output" | cat -v >&2; false; }
	[[ "$output" == *'abcdefghijklmnopqrstuvw ['* ]]
	printf '%s' "$output" | tr -d '\r' | clean
}
