#!/usr/bin/env bats
# Limits that hold however the input arrives: line length from a file or
# a pipe, linear reading, memory held behind a slow request, file size
# limits, idle servers, name collisions and files whose size lies.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	emu_start
	# Records 1 and 3 are fine; record 2 is one byte over 64 MiB.
	local over=$(((64 << 20) + 1 - 24))
	{
		echo '{"type":"note","n":1}'
		printf '{"type":"note","pad":"'
		head -c "$over" /dev/zero | tr '\0' x
		printf '"}\n'
		echo '{"type":"note","n":3}'
	} >"$BATS_FILE_TMPDIR/long.ndjson"
}
teardown_file() { emu_stop; }

LONG() { echo "$BATS_FILE_TMPDIR/long.ndjson"; }

# The record on line 2 of LONG is refused with one line naming the tool,
# the input and the line; lines 1 and 3 still flow (as checked by the
# caller); exit 1.
refused_line2() {
	local tool=$1 input=$2
	[ "$status" -eq 1 ]
	[ "$stderr" = "$tool: $input:2: record longer than 67108864 bytes, skipped" ]
}

@test "the long line is one byte over CA_LINE_MAX" {
	[ "$(sed -n 2p "$(LONG)" | wc -c)" -eq $(((64 << 20) + 2)) ]
}

@test "line length: ca-exec refuses an overlong line from a file and from a pipe" {
	run --separate-stderr ca-exec <"$(LONG)"
	refused_line2 ca-exec '<stdin>'
	[ "$output" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
	run --separate-stderr bash -c 'cat "$1" | ca-exec' _ "$(LONG)"
	refused_line2 ca-exec '<stdin>'
	[ "$output" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
}

@test "line length: ca-fetch refuses an overlong line from a file and from a pipe" {
	run --separate-stderr ca-fetch -d out <"$(LONG)"
	refused_line2 ca-fetch '<stdin>'
	[ "$output" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
	run --separate-stderr bash -c 'cat "$1" | ca-fetch -d out' _ "$(LONG)"
	refused_line2 ca-fetch '<stdin>'
	[ "$output" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
}

@test "line length: ca-files -d refuses an overlong line from a file and from a pipe" {
	run --separate-stderr ca-files -d <"$(LONG)"
	refused_line2 ca-files '<stdin>'
	[ "$output" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
	run --separate-stderr bash -c 'cat "$1" | ca-files -d' _ "$(LONG)"
	refused_line2 ca-files '<stdin>'
	[ "$output" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
}

@test "line length: ca-request refuses an overlong line from a file and from a pipe" {
	run --separate-stderr ca-request -i q hi <"$(LONG)"
	refused_line2 ca-request '<stdin>'
	[ "$(jq -c 'select(.type == "note")' <<<"$output")" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
	[ "$(jq -r 'select(.type == "request") | .custom_id' <<<"$output")" = q ]
	run --separate-stderr bash -c 'cat "$1" | ca-request -i q hi' _ "$(LONG)"
	refused_line2 ca-request '<stdin>'
	[ "$(jq -c 'select(.type == "note")' <<<"$output")" = $'{"type":"note","n":1}\n{"type":"note","n":3}' ]
	[ "$(jq -r 'select(.type == "request") | .custom_id' <<<"$output")" = q ]
}

@test "line length: ca-render refuses an overlong line from a file and from a pipe" {
	{ sed -n 1,2p "$(LONG)"; ca-request -n 'the prompt after the long line'; } >in
	run --separate-stderr ca-render -C never <in
	refused_line2 ca-render '<stdin>'
	[[ "$output" == *"the prompt after the long line"* ]]
	run --separate-stderr bash -c 'cat in | ca-render -C never'
	refused_line2 ca-render '<stdin>'
	[[ "$output" == *"the prompt after the long line"* ]]
}

@test "line length: ca-upload refuses an overlong path line and goes on" {
	printf 'first' >a.txt
	printf 'third' >c.txt
	{ echo a.txt; head -c 5000 /dev/zero | tr '\0' y; echo; echo c.txt; } >paths
	run --separate-stderr ca-upload -n <paths
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-upload: <stdin>:2: a path longer than 4096 bytes, skipped" ]
	[ "$(jq -r .path <<<"$output")" = $'a.txt\nc.txt' ]
	run --separate-stderr bash -c 'cat paths | ca-upload -n'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-upload: <stdin>:2: a path longer than 4096 bytes, skipped" ]
	[ "$(jq -r .path <<<"$output")" = $'a.txt\nc.txt' ]
}

@test "a line of exactly CA_LINE_MAX bytes is a record like any other" {
	{
		printf '{"type":"note","pad":"'
		head -c $(((64 << 20) - 24)) /dev/zero | tr '\0' x
		printf '"}\n'
		echo '{"type":"note","n":2}'
	} >max.ndjson
	[ "$(head -n 1 max.ndjson | wc -c)" -eq $(((64 << 20) + 1)) ]
	run --separate-stderr ca-fetch -d out <max.ndjson
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	cmp <(echo "$output") max.ndjson
}

# rec-test counts the bytes handed to memchr: by the reader, and by the
# parse (ca_jparse looks once for NULs and once for escapes).  Reading
# the way ca-exec does (a read, then "is a line there?"), a 16 MiB line
# through a pipe arrives in hundreds of pieces; rescanning on each call
# would look at some 2 GB, linear reading at a few times the input.
@test "the reader scans a long line arriving in pieces in linear time" {
	{
		printf '{"type":"note","pad":"'
		head -c $((16 << 20)) /dev/zero | tr '\0' x
		printf '"}\n{"type":"note","n":2}\n'
	} >in
	size=$(wc -c <in)
	run --separate-stderr bash -c 'cat in | "$CA_ROOT/t/unit/rec-test" -p'
	[ "$status" -eq 0 ]
	[ "$output" = $'1 16777240 note\n2 21 note' ]
	scanned=${stderr##*scanned }
	echo "input $size, scanned $scanned" >&2
	[ "$scanned" -ge "$size" ]
	[ "$scanned" -le $((4 * size)) ]
}

@test "the reader refuses an overlong line that one read brings whole" {
	run --separate-stderr "$CA_ROOT/t/unit/rec-test" -p <"$(LONG)"
	[ "$output" = $'1 21 note\nbad\n3 21 note' ]
	[ "$stderr" = $'rec-test: <stdin>:2: record longer than 67108864 bytes, skipped\n'"${stderr##*$'\n'}" ]
}

@test "the reader refuses an overlong line that arrives in pieces, asked whether a line is there" {
	run --separate-stderr bash -c 'cat "$1" | "$CA_ROOT/t/unit/rec-test" -p' _ "$(LONG)"
	[ "$output" = $'1 21 note\nbad\n3 21 note' ]
	[ "${stderr%%$'\n'*}" = "rec-test: <stdin>:2: record longer than 67108864 bytes, skipped" ]
}

# With -j 2 the request is in flight while the writer sends more than
# 64 MiB of a line and stops; it ends the line only once the response is
# out.  A ca-exec that waited for the end of the overlong line would
# never write the response (timeout 60 ends the wait).
@test "ca-exec: a writer that stalls in an overlong line does not stall the transfers" {
	emu_fault '{"path":"/v1/messages","latency_ms":2000}'
	ca-request -n -i r1 hi >req
	run --separate-stderr timeout 60 bash -c '{ cat req; printf "{\"type\":\"note\",\"pad\":\"";
		head -c $(((64 << 20) + 100)) /dev/zero | tr "\0" x
		until grep -q "\"type\":\"response\"" out 2>/dev/null; do sleep 0.1; done
		echo "\"}"; echo "{\"type\":\"note\",\"n\":3}"; } | ca-exec -j 2 >out'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-exec: <stdin>:2: record longer than 67108864 bytes, skipped" ]
	[ "$(jq -r .type out | tr '\n' ' ')" = "request response note " ]
	[ "$(tail -1 out)" = '{"type":"note","n":3}' ]
}

# With -j 2, 640 records of 1 MiB wait behind a request the server
# answers only after 6 s.  Held without a bound they take 640 MiB; with
# it, ca-exec stops reading at 256 MiB, and its peak memory (as time(1)
# reports it) stays well under the 640.
@test "ca-exec holds at most 256 MiB behind a slow request, then stops reading" {
	! grep -qa __asan_init "$CA_ROOT/ca-exec" || skip "built with ASan: its memory use is not comparable"
	emu_fault '{"path":"/v1/messages","latency_ms":6000}'
	ca-request -n -i slow hi >req
	python3 -c '
import sys
out = sys.stdout.buffer
out.write(open("req", "rb").read())
pad = b"x" * (1 << 20)
for i in range(640):
    out.write(b"{\"type\":\"note\",\"n\":%d,\"pad\":\"" % i + pad + b"\"}\n")
' | /usr/bin/time -f '%M' -o rss "$CA_ROOT/ca-exec" -j 2 >out 2>err
	[ ! -s err ]
	# Everything came out, in input order.
	[ "$(jq -r '.type + " " + (.n // .custom_id | tostring)' out | tr '\n' ' ')" = \
	    "request slow response slow $(for i in $(seq 0 639); do printf 'note %d ' "$i"; done)" ]
	kib=$(cat rss)
	echo "peak RSS $kib KiB" >&2
	[ "$kib" -lt $((480 << 10)) ]
}

@test "ca-fetch past ulimit -f: EFBIG reported, not killed, no temporary left" {
	a=$(curl -sf -X POST -H 'content-type: application/json' \
		--data-binary '{"filename":"big.bin","size":200000}' \
		"$EMU_URL/_emu/files" | jq -r .id)
	mkdir out
	# No trap: SIGXFSZ is at its default action, as in a plain shell.
	run --separate-stderr bash -c "ulimit -f 64; ca-fetch -d out --id $a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: write out/big.bin: File too large" ]
	[ "$(jq -c '[.file_id, .error.type, .error.message]' <<<"$output")" = "[\"$a\",\"file_error\",\"$a: write out/big.bin: File too large\"]" ]
	[ -z "$(ls -A out)" ]
}

@test "ca-fetch: a metadata GET that never answers is given up after the idle timeout" {
	a=$(emu_file quiet.txt "the bytes")
	# Every metadata attempt hangs far longer than the idle timeout.
	emu_fault '{"path":"/v1/files/*","method":"GET","hang_ms":30000,"times":3}'
	run --separate-stderr ca-fetch -d out --idle-timeout 1 --id "$a"
	[ "$status" -eq 75 ]
	[ "$stderr" = "ca-fetch: $a: metadata: timeout_error: no data received for 1 s" ]
	[ "$(jq -c '[.file_id, .status, .error.type]' <<<"$output")" = "[\"$a\",null,\"timeout_error\"]" ]
	# All three attempts reached the server (the emulator logs a hung
	# request only when it ends; its fault queue shows the rule used up).
	[ "$(curl -sf "$EMU_URL/_emu/faults" | jq -c .faults)" = "[]" ]
	[ -z "$(ls -A out)" ]
}

@test "ca-fetch: the metadata idle timeout lets a retry succeed" {
	a=$(emu_file quiet.txt "the bytes")
	emu_fault '{"path":"/v1/files/*","method":"GET","hang_ms":20000}'
	run --separate-stderr ca-fetch -v -d out --idle-timeout 0.5 --id "$a"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"no data received for 0.5 s; retry 1 of 2"* ]]
	[ "$(jq -r .path <<<"$output")" = out/quiet.txt ]
	[ "$(cat out/quiet.txt)" = "the bytes" ]
	[ "$(curl -sf "$EMU_URL/_emu/faults" | jq -c .faults)" = "[]" ]
}

# The code writes two charts with one base name in two directories of
# outputs/; the server names both chart.png.
two_charts() {
	ca-request -n -i two 'make two charts:
```python
import os
for d, c in (("a", "first"), ("b", "second")):
    os.makedirs("outputs/" + d, exist_ok=True)
    open("outputs/" + d + "/chart.png", "w").write(c + "\n")
```' | ca-exec
}

@test "ca-fetch -f: two files with one base name in one run are both kept" {
	two_charts >resp
	[ "$(jq -r 'select(.type == "response") | [.message.content[] | .content.content[]?.file_id] | length' resp)" -eq 2 ]
	run --separate-stderr ca-fetch -f -d out <resp
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r 'select(.type == "fetched") | .file.filename + " " + .path' <<<"$output")" = \
	    $'chart.png out/chart.png\nchart.png out/chart-2.png' ]
	[ "$(ls out)" = $'chart-2.png\nchart.png' ]
	# Each record's path holds that record's bytes.
	jq -r 'select(.type == "fetched") | .sha256 + "  " + .path' <<<"$output" | sha256sum -c
	[ "$(cat out/chart.png out/chart-2.png | sort | tr '\n' ' ')" = "first second " ]
	# The same input again gives the same names: nothing new, no -f needed.
	run --separate-stderr ca-fetch -d out <resp
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "fetched") | .path + " " + (.unchanged | tostring)' <<<"$output")" = \
	    $'out/chart.png true\nout/chart-2.png true' ]
}

@test "ca-fetch: a numbered name does not take a later file's own name" {
	a=$(emu_file x.txt one)
	b=$(emu_file x.txt two)
	c=$(emu_file x-2.txt three)
	run --separate-stderr ca-fetch -d out --id "$a" --id "$b" --id "$c"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output")" = $'out/x.txt\nout/x-2.txt\nout/x-2-2.txt' ]
	[ "$(cat out/x.txt out/x-2.txt out/x-2-2.txt)" = onetwothree ]
}

@test "ca-upload /proc/self/status: a file that says 0 bytes is read to its end" {
	[ "$(stat -c %s /proc/self/status)" -eq 0 ]
	run --separate-stderr ca-upload -n /proc/self/status
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	size=$(jq -r .file.size_bytes <<<"$output")
	[ "$size" -gt 100 ]
	[ "$(jq -r '.file.filename + " " + .file.mime_type' <<<"$output")" = "status text/plain" ]
	# The emulator received those bytes.
	[ "$(emu_log /v1/files | jq -r '.multipart[] | select(.name == "file") | .size')" -eq "$size" ]
	# -v says what happened.
	run --separate-stderr ca-upload -n -v /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"/proc/self/status: its size was not what the file system said; read to its end: "*" bytes"* ]]
}

@test "ca-upload: a /sys file shorter than its size is read to its end" {
	f=""
	for c in /sys/kernel/uevent_seqnum /sys/kernel/mm/transparent_hugepage/enabled; do
		if [ -r "$c" ] && [ "$(stat -c %s "$c")" -ne "$(wc -c <"$c")" ]; then
			f=$c
			break
		fi
	done
	[ -n "$f" ] || skip "no /sys file whose size lies"
	cat "$f" >expected
	run --separate-stderr ca-upload -n "$f"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .file.size_bytes <<<"$output")" -eq "$(wc -c <expected)" ]
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum <expected | cut -d' ' -f1)" ]
}
