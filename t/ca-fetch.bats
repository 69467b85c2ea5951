#!/usr/bin/env bats
# ca-fetch against the local API emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

teardown() {
	# Mounts some tests made; nothing else is ever mounted here.
	local m
	for m in "$BATS_TEST_TMPDIR/full" "$BATS_TEST_TMPDIR/ro"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	return 0
}

# mkfile JSON: a file made by the emulator's control endpoint -> its id.
mkfile() {
	curl -sf -X POST -H 'content-type: application/json' \
		--data-binary "$1" "$EMU_URL/_emu/files" | jq -r .id
}

# resp3 CID ID1 ID2 ID3: a response whose bash result made ID1 and ID2
# and whose code execution result made ID3.
resp3() {
	jq -cn --arg c "$1" --arg a "$2" --arg b "$3" --arg d "$4" '
	{type: "response", custom_id: $c, part: 1, request_id: "req_test",
	 message: {id: "msg_test", type: "message", role: "assistant",
	  content: [
	   {type: "server_tool_use", id: "srvtoolu_1",
	    name: "bash_code_execution", input: {command: "make"}},
	   {type: "bash_code_execution_tool_result", tool_use_id: "srvtoolu_1",
	    content: {type: "bash_code_execution_result", stdout: "",
	     stderr: "", return_code: 0,
	     content: [{type: "bash_code_execution_output", file_id: $a},
	               {type: "bash_code_execution_output", file_id: $b}]}},
	   {type: "code_execution_tool_result", tool_use_id: "srvtoolu_2",
	    content: {type: "code_execution_result", stdout: "", stderr: "",
	     return_code: 0,
	     content: [{type: "code_execution_output", file_id: $d}]}},
	   {type: "text", text: "done"}],
	  stop_reason: "end_turn"}}'
}

# resp CID ID...: a response whose one bash result made these files.
resp() {
	local c=$1
	shift
	printf '%s\n' "$@" | jq -R . | jq -cs --arg c "$c" '
	{type: "response", custom_id: $c, part: 1,
	 message: {content: [{type: "bash_code_execution_tool_result",
	  tool_use_id: "srvtoolu_1",
	  content: {type: "bash_code_execution_result", stdout: "",
	   stderr: "", return_code: 0,
	   content: map({type: "bash_code_execution_output", file_id: .})}}]}}'
}

content_gets() { emu_log | jq -r 'select(.path | endswith("/content")) | .path' | wc -l; }

# Every record passes through byte for byte; three files arrive.
@test "passes every record through and fetches the files of a response" {
	a=$(emu_file chart.png "PNG bytes")
	b=$(emu_file data.csv "x,y
1,2
")
	c=$(emu_file report.txt "all done")
	{
		printf '%s\n' '{"type":"note",  "z":1, "a":"caf\u00e9 é" }  '
		resp3 r7 "$a" "$b" "$c" | sed 's/^{/{ /'
		printf '%s\n' '{"type":"later","n":[1, 2]}'
	} >in
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 6 ]
	# Pass-through lines, byte for byte and in place.
	grep -v '^{"type":"fetched"' <<<"$output" >passed
	cmp passed in
	[ "$(sed -n 1p <<<"$output")" = "$(sed -n 1p in)" ]
	[ "$(sed -n 2p <<<"$output")" = "$(sed -n 2p in)" ]
	[ "$(sed -n 6p <<<"$output")" = "$(sed -n 3p in)" ]
	# Three fetched records right after the response, in block order.
	[ "$(sed -n 3,5p <<<"$output" | jq -r '[.type, .custom_id, .file.id, .path, .size] | join(" ")')" = \
"fetched r7 $a out/chart.png 9
fetched r7 $b out/data.csv 8
fetched r7 $c out/report.txt 8" ]
	[ "$(cat out/chart.png)" = "PNG bytes" ]
	printf 'x,y\n1,2\n' | cmp - out/data.csv
	[ "$(cat out/report.txt)" = "all done" ]
	for f in chart.png data.csv report.txt; do
		[ "$(jq -r --arg p "out/$f" 'select(.path == $p) | .sha256' <<<"$output")" = \
			"$(sha256sum <"out/$f" | cut -d' ' -f1)" ]
	done
	[ "$(stat -c %a out/chart.png)" = 644 ]
	[ "$(stat -c %a out)" = 755 ]
	[ "$(ls -A out | tr '\n' ' ')" = "chart.png data.csv report.txt " ]
	# Metadata then content, for each file, with the key and version.
	[ "$(emu_log | jq -r '[.method, .path] | join(" ")')" = \
"GET /v1/files/$a
GET /v1/files/$a/content
GET /v1/files/$b
GET /v1/files/$b/content
GET /v1/files/$c
GET /v1/files/$c/content" ]
	[ "$(emu_log | jq -r '.headers["x-api-key"]' | sort -u)" = '***' ]
	[ "$(emu_log | jq -r '.headers["anthropic-version"]' | sort -u)" = 2026-10-21 ]
	refute grep -q "$CA_TEST_KEY" "$EMU_DIR/log.ndjson"
	# The metadata is the API's, unchanged.
	json_eq "$(sed -n 3p <<<"$output" | jq -c .file)" \
		"$(api "$EMU_URL/v1/files/$a")"
}

@test "the default directory is the current one" {
	a=$(emu_file here.txt "here")
	run --separate-stderr ca-fetch --id "$a"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output")" = ./here.txt ]
	[ "$(cat here.txt)" = here ]
}

@test "a missing directory is created with its parents" {
	a=$(emu_file f.txt "f")
	run --separate-stderr ca-fetch -d a/b/c --id "$a"
	[ "$status" -eq 0 ]
	[ "$(cat a/b/c/f.txt)" = f ]
	[ "$(stat -c %a a/b)" = 755 ]
	[ "$(jq -r .path <<<"$output")" = a/b/c/f.txt ]
}

@test "a directory that is a symbolic link the user chose is used" {
	a=$(emu_file f.txt "f")
	mkdir real
	ln -s real link
	run --separate-stderr ca-fetch -d link/ --id "$a"
	[ "$status" -eq 0 ]
	[ "$(cat real/f.txt)" = f ]
	[ "$(jq -r .path <<<"$output")" = link/f.txt ]
}

@test "each file id is fetched once per run" {
	a=$(emu_file once.txt "1")
	b=$(emu_file twice.txt "2")
	{ resp r1 "$a" "$a" "$b"; resp r2 "$b"; resp r3 "$a"; } >in
	run --separate-stderr ca-fetch -v -d out <in
	[ "$status" -eq 0 ]
	[ "$(grep -c '"type":"fetched"' <<<"$output")" -eq 2 ]
	[ "$(grep -c '"type":"response"' <<<"$output")" -eq 3 ]
	[ "$(content_gets)" -eq 2 ]
	[ "$(grep -c 'already fetched in this run, skipped' <<<"$stderr")" -eq 3 ]
}

@test "server-supplied names never leave the directory nor smuggle escapes" {
	mkdir -p w/x
	cd w/x
	touch "$BATS_TEST_TMPDIR/marker"
	passwd_sum=$(sha256sum </etc/passwd)
	long=$(printf 'a%.0s' $(seq 296)).txt
	wide=$(printf '\xc3\xa9%.0s' $(seq 150)).txt
	ids=()
	i=0
	for n in '../../x' '/etc/passwd' '.' '..' 'a/b' $'new\nline' \
		$'\e]0;pwned\a.txt' "$long" "$wide" '' '..\..\win.txt' \
		'.bashrc' '...' '   ' 'C:evil' $'\xc2\x9b2J.txt'; do
		i=$((i + 1))
		ids+=("$(mkfile "$(jq -cn --arg n "$n" --arg c "$i" \
			'{filename: $n, content_b64: ($c | @base64)}')")")
	done
	[ "${#ids[@]}" -eq 16 ]
	resp r1 "${ids[@]}" >in
	run --separate-stderr ca-fetch -v -d out <in
	[ "$status" -eq 0 ]
	expect=$(printf '%s\n' x passwd "${ids[2]}" "${ids[3]}" b new_line \
		'_]0;pwned_.txt' "$(printf 'a%.0s' $(seq 196)).txt" \
		"$(printf '\xc3\xa9%.0s' $(seq 98)).txt" "${ids[9]}" win.txt \
		bashrc "${ids[12]}" "${ids[13]}" C_evil '__2J.txt' | sort)
	[ "$(ls -A out | sort)" = "$expect" ]
	# Each holds its own bytes and its record names it.
	for k in $(seq 0 15); do
		p=$(jq -r --arg id "${ids[$k]}" 'select(.file.id == $id) | .path' <<<"$output")
		[ "$(cat "$p")" = "$((k + 1))" ]
		[[ "$p" == out/* ]]
	done
	# The long names stay valid UTF-8 and within bounds.
	for f in out/*; do
		[ "$(printf '%s' "${f#out/}" | wc -c)" -le 200 ]
		printf '%s' "$f" | iconv -f UTF-8 -t UTF-8 >/dev/null
	done
	# Nothing was written anywhere else.
	[ -z "$(find "$BATS_TEST_TMPDIR" -path "$BATS_TEST_TMPDIR/w/x/out" -prune -o \
		-newer "$BATS_TEST_TMPDIR/marker" ! -type d ! -name in \
		! -name 'separate-stderr-*' -print)" ]
	[ -z "$(ls -A "$HOME")" ]
	[ "$(sha256sum </etc/passwd)" = "$passwd_sum" ]
	# No terminal escape reached stdout or stderr; the names were shown.
	refute grep -q $'\e' <<<"$output"
	refute grep -q $'\e' <<<"$stderr"
	refute grep -q $'\xc2\x9b' <<<"$stderr"
	grep -qF '"\x1b]0;pwned\x07.txt"' <<<"$stderr"
}

@test "a name with no safe part gets one from the id and the MIME type" {
	a=$(mkfile '{"filename": "..", "mime_type": "image/png", "content_b64": "eA=="}')
	b=$(mkfile '{"filename": "", "mime_type": "text/csv", "content_b64": "eA=="}')
	c=$(mkfile '{"filename": "/", "mime_type": "application/x-unknown", "content_b64": "eA=="}')
	run --separate-stderr ca-fetch -d out --id "$a" --id "$b" --id "$c"
	[ "$status" -eq 0 ]
	[ "$(ls out | sort)" = "$(printf '%s\n' "$a.png" "$b.csv" "$c" | sort)" ]
}

@test "a Content-Length that disagrees with the metadata: error, no file, no temporary" {
	a=$(emu_file lie.txt "twelve bytes")
	emu_fault '[{"path": "/v1/files/*/content", "content_length_lie": true}]'
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: content: the server announced 1036 bytes, the file's metadata says 12" ]
	# The missing file travels on as an error record.
	[ "$(jq -c '[.type, .tool, .file_id, .status, .error.type, .error.message]' <<<"$output")" = "[\"error\",\"ca-fetch\",\"$a\",null,\"invalid_response\",\"$a: content: the server announced 1036 bytes, the file's metadata says 12\"]" ]
	[ -z "$(ls -A out)" ]
	# Not retried: the server's word is not going to change.
	[ "$(content_gets)" -eq 1 ]
}

@test "a body cut half-way is retried from the start, then given up: no file" {
	a=$(emu_file cut.txt "0123456789abcdef")
	emu_fault '[{"path": "/v1/files/*/content", "cut_body": true, "times": -1}]'
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 75 ]
	[ "$(content_gets)" -eq 3 ]
	[[ "$stderr" == "ca-fetch: $a: content: connection_error: transfer closed with 8 bytes remaining to read" ]]
	# A temporary failure, as the record says too.
	[ "$(jq -c '[.file_id, .status, .error.type]' <<<"$output")" = "[\"$a\",null,\"connection_error\"]" ]
	[ -z "$(ls -A out)" ]
}

@test "a body cut once: the retry writes the whole file, not twice the half" {
	a=$(emu_file cut.txt "0123456789abcdef")
	emu_fault '[{"path": "/v1/files/*/content", "cut_body": true}]'
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 0 ]
	[ "$(content_gets)" -eq 2 ]
	[ "$(cat out/cut.txt)" = 0123456789abcdef ]
	[ "$(jq -r .sha256 <<<"$output")" = "$(printf 0123456789abcdef | sha256sum | cut -d' ' -f1)" ]
	[ "$(ls -A out)" = cut.txt ]
}

@test "a body bigger than the metadata says is cut off: announced or counted" {
	a=$(emu_file small.txt "tiny")
	emu_fault '[{"path": "/v1/files/*/content", "huge_body": 10000000}]'
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: content: the server announced 10000000 bytes, the file's metadata says 4" ]
	[ -z "$(ls -A out)" ]
	# Chunked: no length up front, so the bytes are counted.
	emu_fault '[{"path": "/v1/files/*/content", "huge_body": 10000000, "chunked": true}]'
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: content: the server sent more than the 4 bytes the file's metadata says" ]
	[ -z "$(ls -A out)" ]
}

@test "an expired file: the API's reason, no file" {
	a=$(mkfile '{"filename": "old.txt", "content_b64": "b2xk", "expired": true}')
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"ca-fetch: $a: content: 404 not_found_error: File $a has expired (request-id req_"[A-Za-z0-9]+") [file_expired]"$ ]]
	[ "$(jq -c '[.type, .file_id, .status, .error.type, .error.message]' <<<"$output")" = "[\"error\",\"$a\",404,\"not_found_error\",\"File $a has expired\"]" ]
	[[ "$(jq -r .request_id <<<"$output")" == req_* ]]
	[ -z "$(ls -A out)" ]
}

@test "an uploaded file is not downloadable: the API's reason, no file" {
	printf 'mine' >mine.txt
	a=$(api \
		-F file=@mine.txt "$EMU_URL/v1/files" | jq -r .id)
	[[ "$a" == file_* ]]
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"ca-fetch: $a: content: 400 invalid_request_error: File $a is not downloadable: only files created by code execution or skills can be downloaded (request-id req_"[A-Za-z0-9]+") [file_not_downloadable]"$ ]]
	[ -z "$(ls -A out)" ]
	[ "$(content_gets)" -eq 1 ]
}

@test "an unknown file: 404 from the metadata request, the others go on" {
	a=$(emu_file ok.txt "ok")
	resp r1 file_doesnotexist "$a" >in
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"ca-fetch: file_doesnotexist: metadata: 404 not_found_error: File not found: file_doesnotexist (request-id req_" ]]
	[ "$(cat out/ok.txt)" = ok ]
	[ "$(grep -c '"type":"fetched"' <<<"$output")" -eq 1 ]
}

@test "a redirect is not followed: the key never goes to the other host" {
	a=$(emu_file r.txt "r")
	# A second emulator on 127.0.0.2 stands in for the other host.
	# (Started by the one launcher in a subshell, so that the tools stay
	# pointed at the first.)
	(emu_launch "$CA_ROOT" other other-key --host 127.0.0.2)
	opid=$(cat other/pid)
	port=$(cat other/port)
	emu_fault "[{\"path\": \"/v1/files/*/content\", \"redirect\": \"http://127.0.0.2:$port/v1/files/$a/content\"}]"
	run --separate-stderr ca-fetch -d out --id "$a"
	kill "$opid"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: content: redirected (302) to http://127.0.0.2:$port/v1/files/$a/content; redirects are not followed" ]
	[ -z "$(ls -A out)" ]
	[ ! -s other/log.ndjson ]
}

@test "a planted symbolic link is never followed; -f replaces the link only" {
	a=$(emu_file victim.txt "attacker bytes")
	mkdir out
	printf 'precious' >outside
	ln -s ../outside out/victim.txt
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: out/victim.txt exists (use -f to overwrite)" ]
	[ "$(cat outside)" = precious ]
	[ -L out/victim.txt ]
	[ "$(ls -A out)" = victim.txt ]
	# Refused before the download.
	[ "$(content_gets)" -eq 0 ]
	run --separate-stderr ca-fetch -f -d out --id "$a"
	[ "$status" -eq 0 ]
	[ "$(cat outside)" = precious ]
	[ ! -L out/victim.txt ]
	[ "$(cat out/victim.txt)" = "attacker bytes" ]
	[ "$(ls -A out)" = victim.txt ]
}

@test "a symbolic link with the same size is compared by its bytes, not followed" {
	a=$(emu_file same.txt "12345678")
	mkdir out
	printf '12345678' >outside
	ln -s ../outside out/same.txt
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: out/same.txt exists (use -f to overwrite)" ]
	[ -L out/same.txt ]
}

@test "an existing file with other bytes: error without -f, the others go on" {
	a=$(emu_file keep.txt "new")
	b=$(emu_file other.txt "other")
	mkdir out
	printf 'old' >out/keep.txt
	resp r1 "$a" "$b" >in
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: out/keep.txt exists (use -f to overwrite)" ]
	[ "$(cat out/keep.txt)" = old ]
	[ "$(cat out/other.txt)" = other ]
	[ "$(grep -c '"type":"fetched"' <<<"$output")" -eq 1 ]
	[ "$(ls -A out | tr '\n' ' ')" = "keep.txt other.txt " ]
	run --separate-stderr ca-fetch -f -d out <in
	[ "$status" -eq 0 ]
	[ "$(cat out/keep.txt)" = new ]
	[ "$(grep -c '"type":"fetched"' <<<"$output")" -eq 2 ]
}

@test "an existing file with the same bytes is left alone, mtime and all" {
	a=$(emu_file same.txt "identical")
	mkdir out
	printf 'identical' >out/same.txt
	touch -d 2020-01-01 out/same.txt
	before=$(stat -c '%Y %i' out/same.txt)
	for f in "" -f; do
		run --separate-stderr ca-fetch $f -d out --id "$a"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		[ "$(stat -c '%Y %i' out/same.txt)" = "$before" ]
		[ "$(jq -r '[.path, .unchanged, .size, .sha256] | join(" ")' <<<"$output")" = \
			"out/same.txt true 9 $(printf identical | sha256sum | cut -d' ' -f1)" ]
	done
	[ "$(ls -A out)" = same.txt ]
}

@test "published files get 0644 less the umask" {
	a=$(emu_file m.txt "m")
	run bash -c "umask 077; ca-fetch -d out --id $a"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a out/m.txt)" = 600 ]
}

@test "a read-only directory: cannot create the temporary, the rest goes on" {
	mkdir ro
	mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null ||
		skip "cannot mount a read-only tmpfs here (root bypasses chmod 0555)"
	a=$(emu_file f.txt "f")
	run --separate-stderr ca-fetch -d ro --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: cannot create a temporary file in ro: Read-only file system" ]
	[ "$(jq -c '[.file_id, .error.type, .error.message]' <<<"$output")" = "[\"$a\",\"file_error\",\"cannot create a temporary file in ro: Read-only file system\"]" ]
}

@test "a full disk: clear error, temporary removed" {
	mkdir full
	mount -t tmpfs -o size=64k tmpfs full 2>/dev/null ||
		skip "cannot mount a small tmpfs here"
	a=$(mkfile '{"filename": "big.bin", "size": 300000}')
	b=$(emu_file small.txt "fits")
	resp r1 "$a" "$b" >in
	run --separate-stderr ca-fetch -d full <in
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: write full/big.bin: No space left on device" ]
	[ "$(ls -A full)" = small.txt ]
	[ "$(grep -c '"type":"fetched"' <<<"$output")" -eq 1 ]
	[ "$(jq -c 'select(.type == "error") | [.custom_id, .file_id, .error.type, .error.message]' <<<"$output")" = "[\"r1\",\"$a\",\"file_error\",\"$a: write full/big.bin: No space left on device\"]" ]
}

@test "a file size limit (EFBIG): clear error, temporary removed" {
	a=$(mkfile '{"filename": "big.bin", "size": 100000}')
	run --separate-stderr bash -c "ulimit -f 16; ca-fetch -d out --id $a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: $a: write out/big.bin: File too large" ]
	[ -z "$(ls -A out)" ]
}

# start_slow SIG: a fetch whose download hangs, with SIG at its default
# action (a background job of a script would ignore SIGINT); waits until
# the temporary file exists.
start_slow() {
	local a i
	a=$(emu_file slow.txt "slow")
	emu_fault '[{"path": "/v1/files/*/content", "latency_ms": 20000}]'
	mkdir -p out
	env --default-signal="$1" ca-fetch -d out --id "$a" >stdout 2>stderr &
	pid=$!
	for i in $(seq 600); do
		[ -n "$(ls -A out)" ] && break
		sleep 0.05
	done
	[[ "$(ls -A out)" == .ca-fetch.* ]]
}

@test "SIGINT in the middle of a download: exit 130, no file, no temporary" {
	[ -z "${CA_VALGRIND:-}" ] || skip "signals go to valgrind"
	start_slow INT
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 130 ]
	[ -z "$(ls -A out)" ]
	[ ! -s stdout ]
}

@test "SIGTERM and SIGHUP: exit 128+N, no temporary" {
	[ -z "${CA_VALGRIND:-}" ] || skip "signals go to valgrind"
	start_slow TERM
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
	[ -z "$(ls -A out)" ]
	emu_reset
	start_slow HUP
	kill -HUP "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 129 ]
	[ -z "$(ls -A out)" ]
}

@test "-o FILE with --id writes that file" {
	a=$(emu_file whatever.txt "by id")
	run --separate-stderr ca-fetch -o got.bin --id "$a" </dev/null
	[ "$status" -eq 0 ]
	[ "$(cat got.bin)" = "by id" ]
	[ "$(jq -r .path <<<"$output")" = got.bin ]
	[ "$(jq -r .custom_id <<<"$output")" = null ]
	[ ! -e whatever.txt ]
	# Under the same rules as -d: no overwrite of other bytes without -f.
	printf 'other' >got.bin
	run --separate-stderr ca-fetch -o got.bin --id "$a"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: got.bin exists (use -f to overwrite)" ]
	# sub/../got.bin with no sub: see t/usage.ndjson.
	mkdir sub
	run --separate-stderr ca-fetch -f -o sub/../got.bin --id "$a"
	[ "$status" -eq 0 ]
	[ "$(cat got.bin)" = "by id" ]
}

@test "-o - writes the raw bytes to stdout and no records" {
	a=$(mkfile '{"filename": "gen.bin", "size": 3000000}')
	ca-fetch -o - --id "$a" >got
	[ "$(sha256sum <got)" = "$(yes 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!' | head -c 3000000 | sha256sum)" ]
	[ "$(ls -A | tr '\n' ' ')" = "got home " ]
	# From records: stdout is the file, so nothing passes through.
	{ echo '{"type":"note"}'; resp r1 "$a"; } >in
	run --separate-stderr bash -c "ca-fetch -o - <in | sha256sum"
	[ "$output" = "$(sha256sum <got)" ]
	[ -z "$stderr" ]
}

@test "-o FILE from records: passes them through, fetches the one file last" {
	a=$(emu_file one.txt "one")
	{ resp r4 "$a"; echo '{"type":"note"}'; } >in
	run --separate-stderr ca-fetch -o single.txt <in
	[ "$status" -eq 0 ]
	[ "$(sed -n 1,2p <<<"$output")" = "$(cat in)" ]
	[ "$(sed -n 3p <<<"$output" | jq -r '[.type, .custom_id, .path] | join(" ")')" = "fetched r4 single.txt" ]
	[ "$(cat single.txt)" = one ]
}

@test "-o with more than one file: usage error, nothing fetched" {
	a=$(emu_file one.txt "1")
	b=$(emu_file two.txt "2")
	resp r1 "$a" "$b" >in
	run --separate-stderr ca-fetch -o x.bin <in
	[ "$status" -eq 2 ]
	[ "$stderr" = "ca-fetch: -o takes one file; the input has 2" ]
	[ "$output" = "$(cat in)
{\"type\":\"error\",\"tool\":\"ca-fetch\",\"status\":null,\"request_id\":null,\"error\":{\"type\":\"usage_error\",\"message\":\"-o takes one file; the input has 2\"}}" ]
	[ ! -e x.bin ]
	[ "$(content_gets)" -eq 0 ]
	# The same file twice is one file.
	resp r1 "$a" "$a" >in
	run --separate-stderr ca-fetch -o x.bin <in
	[ "$status" -eq 0 ]
	[ "$(cat x.bin)" = 1 ]
}

@test "-o with no file in the input is an error" {
	echo '{"type":"note"}' >in
	run --separate-stderr ca-fetch -o x.bin <in
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: no file in the input" ]
	[ "$output" = '{"type":"note"}' ]
}

@test "--id ignores stdin; -i is the same" {
	a=$(emu_file i.txt "i")
	run --separate-stderr bash -c "echo garbage | ca-fetch -d out -i $a"
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.id <<<"$output")" = "$a" ]
	[ "$(cat out/i.txt)" = i ]
	run --separate-stderr ca-fetch -d out --id ..
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ca-fetch: invalid file id ".."' ]
}

@test "a bad input line is reported and the other records flow" {
	a=$(emu_file ok.txt "ok")
	{ echo '{"type":"a"}'; echo 'not json'; resp r1 "$a"; } >in
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-fetch: <stdin>:2: not a JSON object, skipped" ]
	[ "$(sed -n 1p <<<"$output")" = '{"type":"a"}' ]
	[ "$(grep -c '"type":"fetched"' <<<"$output")" -eq 1 ]
	[ "$(cat out/ok.txt)" = ok ]
}

@test "an overloaded API after the retries: exit 75" {
	a=$(emu_file t.txt "t")
	emu_fault '[{"path": "/v1/files/*", "status": 529, "times": -1}]'
	run --separate-stderr ca-fetch -d out --id "$a"
	[ "$status" -eq 75 ]
	[[ "$stderr" =~ ^"ca-fetch: $a: metadata: 529 overloaded_error: Overloaded (request-id req_" ]]
	[ "$(emu_log "/v1/files/$a" | wc -l)" -eq 3 ]
	[ -z "$(ls -A out)" ]
}

@test "-v notes what happens; without it stderr is quiet" {
	a=$(emu_file v.txt "v")
	run --separate-stderr ca-fetch -d out --id "$a"
	[ -z "$stderr" ]
	run --separate-stderr ca-fetch -v -d out --id "$a"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ca-fetch: $a: \"v.txt\", 1 bytes -> out/v.txt
ca-fetch: out/v.txt: unchanged" ]
}

@test "a progress bar only on a terminal, and -q silences it" {
	command -v script >/dev/null || skip "no script(1)"
	a=$(mkfile '{"filename": "p.bin", "size": 2097152}')
	run script -qec "ca-fetch -d out --id $a" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"ca-fetch: out/p.bin 100% 2.0/2.0 MiB"* ]]
	rm out/p.bin
	run script -qec "ca-fetch -q -d out --id $a" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" != *"100%"* ]]
	[ -f out/p.bin ]
	# Not a terminal: no bar.
	rm out/p.bin
	run --separate-stderr ca-fetch -d out --id "$a"
	[ -z "$stderr" ]
}

@test "usage: --help and -h" {
	run --separate-stderr ca-fetch --help
	[ "$status" -eq 0 ]
	[ "$(head -2 <<<"$output")" = "usage: ca-fetch [-fqv] [-d dir] [-o file] [--idle-timeout seconds]
                [--id file_id ...]" ]
	[ -z "$stderr" ]
	help=$output
	run --separate-stderr ca-fetch -h
	[ "$status" -eq 0 ]
	[ "$output" = "$help" ]
}

@test "the key never appears in output, errors or the emulator's log" {
	a=$(emu_file k.txt "k")
	emu_fault '[{"path": "/v1/files/*/content", "status": 401}]'
	run --separate-stderr ca-fetch -v -d out --id "$a" --id file_nope
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"401 authentication_error"* ]]
	refute grep -q "$CA_TEST_KEY" <<<"$output$stderr"
	refute grep -q "$CA_TEST_KEY" "$EMU_DIR/log.ndjson"
}

@test "files the emulator's code execution really made are fetched" {
	jq -nc '{model: "claude-opus-5-5", max_tokens: 1024,
		tools: [{type: "code_execution_20260521", name: "code_execution"}],
		messages: [{role: "user", content: "run this:\n```bash\nmkdir -p $OUTPUT_DIR\nprintf \"a,b\\n1,2\\n\" >$OUTPUT_DIR/data.csv\nseq 1000 >$OUTPUT_DIR/n.txt\n```"}]}' >body
	api \
		-H 'content-type: application/json' --data-binary @body \
		"$EMU_URL/v1/messages" |
		jq -c '{type: "response", custom_id: "real", part: 1, message: .}' >in
	[ "$(jq '[.. | .file_id? // empty] | length' in)" -eq 2 ]
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "fetched") | .path' <<<"$output" | sort)" = "out/data.csv
out/n.txt" ]
	printf 'a,b\n1,2\n' | cmp - out/data.csv
	seq 1000 | cmp - out/n.txt
}

@test "a name that would read as an option gets a leading underscore" {
	a=$(emu_file '-rf' 'x')
	resp r1 "$a" >in
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 0 ]
	[ "$(ls out)" = _rf ]
}

@test "metadata claiming more than a container holds is refused" {
	a=$(emu_file big.bin 'x')
	curl -sf -X POST -H 'content-type: application/json' \
		-d '{"size_bytes": 6000000000}' "$EMU_URL/_emu/files/$a" >/dev/null
	resp r1 "$a" >in
	run --separate-stderr ca-fetch -d out <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the metadata claims 6000000000 bytes, more than the 5368709120 a container can hold; not fetched" ]]
	[ -z "$(ls -A out)" ]
}

@test "an error record that passes through sets the exit status by its kind" {
	tmp='{"type":"error","custom_id":"r1","part":1,"status":529,"request_id":null,"attempts":3,"error":{"type":"overloaded_error","message":"Overloaded"}}'
	perm='{"type":"error","path":"x.csv","status":null,"request_id":null,"error":{"type":"file_error","message":"No such file or directory"}}'
	run --separate-stderr ca-fetch -d out <<<"$tmp"
	[ "$status" -eq 75 ]
	[ "$output" = "$tmp" ]
	[ -z "$stderr" ]
	run --separate-stderr ca-fetch -d out <<<"$tmp
$perm"
	[ "$status" -eq 1 ]
	[ "$output" = "$tmp
$perm" ]
	[ -z "$stderr" ]
}
