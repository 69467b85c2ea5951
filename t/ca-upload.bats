#!/usr/bin/env bats
# ca-upload against the local API emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

posts() { emu_log /v1/files | jq -s '[.[] | select(.method == "POST")] | length'; }
# The multipart parts of the Nth (1-based) POST /v1/files.
parts() { emu_log /v1/files | jq -s -c "[.[] | select(.method == \"POST\")][$1 - 1].multipart"; }
entries() { find "$XDG_CACHE_HOME/ca/files" -type f 2>/dev/null | wc -l; }

@test "one file: a file record with the API's metadata, quiet stderr" {
	printf 'month,revenue\n1,10\n2,20\n' >sales.csv
	run --separate-stderr ca-upload sales.csv
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[ "$(jq -r '.type + " " + .path' <<<"$output")" = "file sales.csv" ]
	[[ "$(jq -r .file.id <<<"$output")" == file_* ]]
	json_eq "$(jq -c '.file | {type, filename, mime_type, size_bytes, downloadable, expires_at}' <<<"$output")" \
		'{"type":"file","filename":"sales.csv","mime_type":"text/csv","size_bytes":24,"downloadable":false,"expires_at":null}'
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum sales.csv | cut -c1-64)" ]
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	# The record wraps what the API returned, unchanged.
	id=$(jq -r .file.id <<<"$output")
	meta=$(api "$EMU_URL/v1/files/$id")
	json_eq "$(jq -c .file <<<"$output")" "$meta"
	[ "$(posts)" -eq 1 ]
	json_eq "$(parts 1)" '[{"name":"file","filename":"sales.csv","content_type":"text/csv","size":24}]'
	log=$(emu_log /v1/files)
	[ "$(jq -r '.headers["x-api-key"]' <<<"$log")" = '***' ]
	[ "$(jq -r '.headers["anthropic-beta"]' <<<"$log")" = null ]
}

@test "the part's filename is the path's last component" {
	mkdir -p data/2026
	echo x >data/2026/q1.txt
	run --separate-stderr ca-upload data/2026/q1.txt
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output")" = data/2026/q1.txt ]
	[ "$(jq -r .file.filename <<<"$output")" = q1.txt ]
	[ "$(parts 1 | jq -r '.[0].filename')" = q1.txt ]
}

@test "several operands give several records, in order" {
	echo 1 >c.txt; echo 22 >a.txt; echo 333 >b.txt
	run --separate-stderr ca-upload c.txt a.txt b.txt
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .path <<<"$output" | paste -sd ' ')" = "c.txt a.txt b.txt" ]
	[ "$(jq -r .file.size_bytes <<<"$output" | paste -sd ' ')" = "2 3 4" ]
	[ "$(emu_log /v1/files | jq -r '.multipart[0].filename' | paste -sd ' ')" = "c.txt a.txt b.txt" ]
	[ "$(jq -r .file.id <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

@test "without operands, paths come from stdin, one per line" {
	echo a >'with space.txt'
	echo b >plain.csv
	run --separate-stderr ca-upload <<<'with space.txt

plain.csv'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .path <<<"$output" | paste -sd '|')" = "with space.txt|plain.csv" ]
	[ "$(posts)" -eq 2 ]
}

@test "-0 reads NUL-separated paths that may hold newlines and spaces" {
	nl=$'two\nlines and space.txt'
	printf 'x\n' >"$nl"
	printf 'y\n' >'tab	name.md'
	run --separate-stderr bash -c 'printf "%s\0" "$1" "tab	name.md" | ca-upload -0' _ "$nl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -s length <<<"$output")" -eq 2 ]
	[ "$(jq -s -r '.[0].path' <<<"$output")" = "$nl" ]
	[ "$(jq -s -r '.[1].path' <<<"$output")" = 'tab	name.md' ]
	[ "$(jq -s -r '.[1].file.mime_type' <<<"$output")" = text/markdown ]
	[ "$(posts)" -eq 2 ]
}

@test "find -print0 | ca-upload -0 uploads every file" {
	mkdir d
	for i in 1 2 3; do echo "$i" >"d/f $i.csv"; done
	run --separate-stderr bash -c 'find d -type f -print0 | sort -z | ca-upload -0'
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output" | paste -sd '|')" = "d/f 1.csv|d/f 2.csv|d/f 3.csv" ]
}

@test "a stdin line is a path even when it looks like a record" {
	run --separate-stderr ca-upload <<<'{"type":"file","path":"x"}'
	[ "$status" -eq 1 ]
	json_eq "$output" '{"type":"error","path":"{\"type\":\"file\",\"path\":\"x\"}","status":null,"request_id":null,"error":{"type":"file_error","message":"No such file or directory"}}'
	[ "$stderr" = 'ca-upload: {"type":"file","path":"x"}: No such file or directory' ]
}

@test "a missing path is reported and the others still upload" {
	echo a >a.txt; echo b >b.txt
	run --separate-stderr ca-upload a.txt nosuch.csv b.txt
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-upload: nosuch.csv: No such file or directory" ]
	# In order: an error record for the path that failed.
	[ "$(jq -r '.type + " " + .path' <<<"$output" | paste -sd ' ')" = "file a.txt error nosuch.csv file b.txt" ]
	json_eq "$(sed -n 2p <<<"$output")" '{"type":"error","path":"nosuch.csv","status":null,"request_id":null,"error":{"type":"file_error","message":"No such file or directory"}}'
	[ "$(posts)" -eq 2 ]
}

@test "a directory, a FIFO and - are refused without hanging" {
	mkdir adir
	mkfifo afifo
	echo ok >ok.txt
	run --separate-stderr timeout 60 ca-upload adir afifo - ok.txt
	[ "$status" -eq 1 ]
	[ "$(jq -r '.type + " " + .path' <<<"$output" | paste -sd ' ')" = "error adir error afifo error - file ok.txt" ]
	[ "$(jq -r 'select(.type == "error") | .error.message' <<<"$output" | paste -sd '|')" = "Is a directory|not a regular file|cannot upload standard input; save it to a file first" ]
	[ "$stderr" = "ca-upload: adir: Is a directory
ca-upload: afifo: not a regular file
ca-upload: -: cannot upload standard input; save it to a file first" ]
	[ "$(posts)" -eq 1 ]
}

@test "an unreadable file is reported" {
	[ "$(id -u)" -ne 0 ] || skip "root can read anything"
	echo secret >locked.txt
	chmod 000 locked.txt
	run --separate-stderr ca-upload locked.txt
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-upload: locked.txt: Permission denied" ]
}

@test "control characters in a failing path are escaped on stderr" {
	run --separate-stderr ca-upload $'evil\e]0;pwned\a.csv'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ca-upload: evil\x1b]0;pwned\x07.csv: No such file or directory' ]
}

@test "MIME types by extension, case-insensitive, reach the API" {
	exts="csv tsv json jsonl ndjson xlsx xls parquet pdf png jpg jpeg gif webp txt md xml html htm zip CSV Md"
	for e in $exts; do printf 'content %s\n' "$e" >"f.$e"; done
	# shellcheck disable=SC2086
	run --separate-stderr ca-upload -n $(for e in $exts; do echo "f.$e"; done)
	[ "$status" -eq 0 ]
	want="f.csv text/csv
f.tsv text/tab-separated-values
f.json application/json
f.jsonl application/x-ndjson
f.ndjson application/x-ndjson
f.xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
f.xls application/vnd.ms-excel
f.parquet application/vnd.apache.parquet
f.pdf application/pdf
f.png image/png
f.jpg image/jpeg
f.jpeg image/jpeg
f.gif image/gif
f.webp image/webp
f.txt text/plain
f.md text/markdown
f.xml application/xml
f.html text/html
f.htm text/html
f.zip application/zip
f.CSV text/csv
f.Md text/markdown"
	[ "$(jq -r '.path + " " + .file.mime_type' <<<"$output")" = "$want" ]
	[ "$(emu_log /v1/files | jq -r '.multipart[0] | .filename + " " + .content_type')" = "$want" ]
}

@test "unknown extensions are sniffed from the content" {
	printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' >a.dat
	printf '\xff\xd8\xff\xe0\0\x10JFIF' >b.dat
	printf 'GIF89a\1\0\1\0' >c
	printf 'RIFF\x24\0\0\0WEBPVP8 ' >d.img
	printf '%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n' >e.bin
	printf 'PK\3\4\x14\0\0\0' >f.pkg
	printf 'h\xc3\xa9llo, w\xc3\xb6rld\n\tindented\n' >g.data
	printf 'text\0with a NUL\n' >h.data
	printf '\x80\x81\x82 not utf-8' >i.data
	: >j.empty
	printf 'PAR1\x15\x04' >k.pq
	run --separate-stderr ca-upload -n a.dat b.dat c d.img e.bin f.pkg g.data h.data i.data j.empty k.pq
	[ "$status" -eq 0 ]
	want="image/png
image/jpeg
image/gif
image/webp
application/pdf
application/zip
text/plain
application/octet-stream
application/octet-stream
text/plain
application/vnd.apache.parquet"
	[ "$(emu_log /v1/files | jq -r '.multipart[0].content_type')" = "$want" ]
	[ "$(jq -r .file.mime_type <<<"$output" | sed -n '1,7p;10,11p')" = "$(sed -n '1,7p;10,11p' <<<"$want")" ]
}

@test "-t overrides the guessed type" {
	echo '{"a":1}' >x.csv
	run --separate-stderr ca-upload -t application/json x.csv
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.mime_type <<<"$output")" = application/json ]
	[ "$(parts 1 | jq -r '.[0].content_type')" = application/json ]
}

@test "--expires 3600 is sent as a form field and the file gets expires_at" {
	echo tmp >t.log
	run --separate-stderr ca-upload --expires 3600 t.log
	[ "$status" -eq 0 ]
	json_eq "$(parts 1)" '[{"name":"file","filename":"t.log","content_type":"text/plain","size":4},{"name":"expires_in_seconds","filename":null,"content_type":null,"size":4}]'
	# The emulator sets expires_at to created_at plus the seconds asked.
	lifetime() { echo $(($(date -d "$(jq -r .file.expires_at <<<"$output")" +%s) - $(date -d "$(jq -r .file.created_at <<<"$output")" +%s))); }
	[ "$(lifetime)" -eq 3600 ]
	run --separate-stderr ca-upload -n -e 7776000 t.log
	[ "$status" -eq 0 ]
	[ "$(lifetime)" -eq 7776000 ]
}

@test "the same bytes again come from the cache after a GET, not a POST" {
	printf 'a,b\n1,2\n' >s.csv
	run --separate-stderr ca-upload s.csv
	[ "$status" -eq 0 ]
	first=$output
	id=$(jq -r .file.id <<<"$first")
	run --separate-stderr ca-upload s.csv
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .file.id <<<"$output")" = "$id" ]
	[ "$(jq .cached <<<"$output")" = true ]
	json_eq "$(jq -c 'del(.cached)' <<<"$output")" "$first"
	[ "$(posts)" -eq 1 ]
	[ "$(emu_log "/v1/files/$id" | jq -r .method)" = GET ]
	[ "$(emu_log | wc -l)" -eq 2 ]
}

@test "the same bytes under another name or type, or another expiry, are uploaded again" {
	printf 'same\n' >one.txt
	cp one.txt two.txt
	run --separate-stderr ca-upload one.txt two.txt
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.id <<<"$output" | sort -u | wc -l)" -eq 2 ]
	run --separate-stderr ca-upload -t text/markdown one.txt
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	run --separate-stderr ca-upload -e 86400 one.txt
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	[ "$(posts)" -eq 4 ]
	[ "$(entries)" -eq 4 ]
	# Changed content under the same name is a new file too.
	printf 'changed\n' >one.txt
	run --separate-stderr ca-upload one.txt
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	[ "$(posts)" -eq 5 ]
}

@test "the cache is keyed by the API base URL" {
	echo x >k.txt
	run --separate-stderr ca-upload k.txt
	[ "$status" -eq 0 ]
	run --separate-stderr env ANTHROPIC_BASE_URL="${EMU_URL/127.0.0.1/localhost}" ca-upload k.txt
	[ "$status" -eq 0 ]
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	[ "$(posts)" -eq 2 ]
}

@test "a file deleted on the server is uploaded again and the entry replaced" {
	echo gone >g.txt
	run --separate-stderr ca-upload g.txt
	old=$(jq -r .file.id <<<"$output")
	api -X DELETE "$EMU_URL/v1/files/$old" >/dev/null
	run --separate-stderr ca-upload -v g.txt
	[ "$status" -eq 0 ]
	new=$(jq -r .file.id <<<"$output")
	[ "$new" != "$old" ]
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	[[ "$stderr" == *"g.txt: cached $old is gone from the server; uploading again"* ]]
	[ "$(posts)" -eq 2 ]
	[ "$(entries)" -eq 1 ]
	[ "$(jq -r .id "$XDG_CACHE_HOME"/ca/files/*)" = "$new" ]
	run --separate-stderr ca-upload g.txt
	[ "$(jq -r '.file.id + " " + (.cached|tostring)' <<<"$output")" = "$new true" ]
}

@test "a cached file that has expired on the server is uploaded again" {
	echo soon >e.txt
	run --separate-stderr ca-upload e.txt
	old=$(jq -r .file.id <<<"$output")
	curl -sf -X POST -H 'content-type: application/json' -d '{"expired":true}' \
		"$EMU_URL/_emu/files/$old" >/dev/null
	run --separate-stderr ca-upload -v e.txt
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.id <<<"$output")" != "$old" ]
	[[ "$stderr" == *"cached $old expires within minutes; uploading again"* ]]
}

@test "a damaged cache entry is ignored and rewritten" {
	echo d >d.txt
	run --separate-stderr ca-upload d.txt
	f=$(find "$XDG_CACHE_HOME/ca/files" -type f)
	echo 'not json' >"$f"
	run --separate-stderr ca-upload d.txt
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	[ "$(jq -r .id "$f")" = "$(jq -r .file.id <<<"$output")" ]
}

@test "--no-cache always POSTs and leaves no cache behind" {
	echo n >n.txt
	run --separate-stderr ca-upload n.txt
	run --separate-stderr ca-upload --no-cache n.txt
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	rm -rf "$XDG_CACHE_HOME"
	run --separate-stderr ca-upload -n n.txt
	[ "$status" -eq 0 ]
	[ "$(posts)" -eq 3 ]
	[ ! -e "$XDG_CACHE_HOME" ]
	[ "$(emu_log | jq -r .method | sort -u)" = POST ]
}

@test "cache entries: 0700 directories, 0600 files named by a hex key, valid JSON" {
	echo m >m.txt
	run --separate-stderr ca-upload m.txt
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$XDG_CACHE_HOME/ca" "$XDG_CACHE_HOME/ca/files" | paste -sd ' ')" = "700 700" ]
	f=$(find "$XDG_CACHE_HOME/ca/files" -type f)
	[ "$(stat -c %a "$f")" = 600 ]
	[[ "$(basename "$f")" =~ ^[0-9a-f]{64}$ ]]
	json_eq "$(cat "$f")" "$(jq -c .file <<<"$output")"
}

@test "the cache defaults to ~/.cache/ca/files and follows XDG_CACHE_HOME" {
	echo h >h.txt
	unset XDG_CACHE_HOME
	run --separate-stderr ca-upload h.txt
	[ "$(find "$HOME/.cache/ca/files" -type f | wc -l)" -eq 1 ]
	XDG_CACHE_HOME="$BATS_TEST_TMPDIR/xdg" run --separate-stderr ca-upload h.txt
	[ "$(jq 'has("cached")' <<<"$output")" = false ]
	[ "$(find "$BATS_TEST_TMPDIR/xdg/ca/files" -type f | wc -l)" -eq 1 ]
}

@test "a cache that cannot be written gives one warning; uploads go on" {
	echo a >a.txt; echo b >b.txt
	: >notadir
	XDG_CACHE_HOME="$BATS_TEST_TMPDIR/notadir/sub" run --separate-stderr ca-upload a.txt b.txt
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 2 ]
	[ "$stderr" = "ca-upload: cache $BATS_TEST_TMPDIR/notadir/sub/ca/files: cannot create it: Not a directory; going on without the cache" ]
}

@test "two concurrent runs on the same file both succeed and leave one valid entry" {
	head -c 300000 /dev/urandom >r.bin
	ca-upload r.bin >out1 2>err1 &
	p1=$!
	ca-upload r.bin >out2 2>err2 &
	p2=$!
	wait "$p1"
	wait "$p2"
	[ ! -s err1 ] && [ ! -s err2 ]
	[ "$(jq -r .type out1 out2 | paste -sd ' ')" = "file file" ]
	[ "$(entries)" -eq 1 ]
	[ -z "$(find "$XDG_CACHE_HOME/ca/files" -name '.tmp*')" ]
	id=$(jq -r .id "$XDG_CACHE_HOME"/ca/files/*)
	jq -r .file.id out1 out2 | grep -qx "$id"
	run --separate-stderr ca-upload r.bin
	[ "$(jq -r '.file.id + " " + (.cached|tostring)' <<<"$output")" = "$id true" ]
}

@test "the content's SHA-256 matches sha256sum at block boundaries" {
	for n in 0 1 55 56 63 64 65 119 120 65535 65536 65537 1048577; do
		head -c "$n" /dev/urandom >"b$n.bin"
	done
	run --separate-stderr ca-upload -n b*.bin
	[ "$status" -eq 0 ]
	[ "$(jq -r '.sha256 + "  " + .path' <<<"$output")" = "$(sha256sum b*.bin)" ]
	[ "$(jq -r '.path + " " + (.file.size_bytes|tostring)' <<<"$output" | head -1)" = "b0.bin 0" ]
}

@test "an API error: exit 1 with the API's message and request-id; others go on" {
	echo a >a.txt; echo b >b.txt
	emu_fault '[{"method":"POST","path":"/v1/files","status":400,"body":{"type":"error","error":{"type":"invalid_request_error","message":"filename: bad name"}}}]'
	run --separate-stderr ca-upload a.txt b.txt
	[ "$status" -eq 1 ]
	rid=$(emu_log /v1/files | head -1 | jq -r .request_id)
	[[ "$rid" == req_* ]]
	[ "$stderr" = "ca-upload: a.txt: upload failed: 400 invalid_request_error: filename: bad name (request-id $rid)" ]
	# The API's error object, its status and request-id, in the record.
	json_eq "$(sed -n 1p <<<"$output")" "{\"type\":\"error\",\"path\":\"a.txt\",\"status\":400,\"request_id\":\"$rid\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"filename: bad name\"}}"
	[ "$(sed -n 2p <<<"$output" | jq -r '.type + " " + .path')" = "file b.txt" ]
	[ "$(posts)" -eq 2 ]
}

@test "413 from the API is not retried" {
	echo a >a.txt
	emu_fault '[{"method":"POST","path":"/v1/files","status":413}]'
	run --separate-stderr ca-upload a.txt
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ca-upload: a.txt: upload failed: 413 request_too_large: "* ]]
	[ "$(posts)" -eq 1 ]
}

@test "529 twice, then success: the whole file is sent three times, exit 0" {
	head -c 100000 /dev/urandom >r.bin
	emu_fault '[{"method":"POST","path":"/v1/files","status":529,"times":2}]'
	run --separate-stderr ca-upload r.bin
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .type <<<"$output")" = file ]
	[ "$(emu_log /v1/files | jq -r '.status' | paste -sd ' ')" = "529 529 200" ]
	[ "$(emu_log /v1/files | jq -r '.multipart[0].size' | paste -sd ' ')" = "100000 100000 100000" ]
}

@test "-v shows the retries" {
	echo a >a.txt
	emu_fault '[{"method":"POST","path":"/v1/files","status":529,"times":1}]'
	run --separate-stderr ca-upload -v a.txt
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"529 overloaded_error: Overloaded (request-id req_"*"); retry 1 of 2 in "* ]]
	[[ "$stderr" == *"a.txt: uploaded as file_"*" (2 bytes, text/plain)"* ]]
}

@test "a connection reset during the upload is retried with the whole file" {
	head -c 200000 /dev/urandom >r.bin
	emu_fault '[{"method":"POST","path":"/v1/files","reset":"before_headers","read_body_bytes":50000}]'
	run --separate-stderr ca-upload r.bin
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.size_bytes <<<"$output")" -eq 200000 ]
	[ "$(emu_log /v1/files | jq -r 'select(.status == 200) | .multipart[0].size')" = 200000 ]
}

@test "529 every time: exit 75 after three attempts" {
	echo a >a.txt
	emu_fault '[{"method":"POST","path":"/v1/files","status":529,"times":-1}]'
	run --separate-stderr ca-upload a.txt
	[ "$status" -eq 75 ]
	[ "$(jq -r '[.type, .path, .status, .error.type] | join(" ")' <<<"$output")" = "error a.txt 529 overloaded_error" ]
	[[ "$stderr" == "ca-upload: a.txt: upload failed: 529 overloaded_error: Overloaded (request-id req_"* ]]
	[ "$(posts)" -eq 3 ]
}

@test "a temporary failure and a permanent one together exit 1" {
	echo a >a.txt
	emu_fault '[{"method":"POST","path":"/v1/files","status":529,"times":-1}]'
	run --separate-stderr ca-upload a.txt nosuch.txt
	[ "$status" -eq 1 ]
}

@test "an unreachable API is a temporary failure: exit 75" {
	echo a >a.txt
	ANTHROPIC_BASE_URL=http://127.0.0.1:1 run --separate-stderr ca-upload a.txt
	[ "$status" -eq 75 ]
	[[ "$stderr" == "ca-upload: a.txt: upload failed: connection_error: "* ]]
}

@test "a failing cache check fails the path; 404 does not" {
	echo a >a.txt
	run --separate-stderr ca-upload a.txt
	id=$(jq -r .file.id <<<"$output")
	emu_fault "[{\"method\":\"GET\",\"path\":\"/v1/files/$id\",\"status\":403}]"
	run --separate-stderr ca-upload a.txt
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ca-upload: a.txt: checking the cached upload: 403 permission_error: "* ]]
	[ "$(posts)" -eq 1 ]
}

@test "ANTHROPIC_AUTH_TOKEN is sent as a bearer token" {
	echo a >a.txt
	run --separate-stderr env -u ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN="$CA_TEST_KEY" ca-upload a.txt
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/files | jq -r .headers.authorization)" = '***' ]
}

@test "the key never appears in output, errors, notes or the cache" {
	echo a >a.txt
	{
		ca-upload -v a.txt nosuch
		ca-upload -v a.txt
		emu_fault '[{"method":"POST","path":"/v1/files","status":401,"times":1}]'
		ca-upload -v -n a.txt
		ANTHROPIC_BASE_URL=http://example.com ca-upload -v a.txt
	} >all 2>&1 || true
	[ -s all ]
	refute grep -qF "$CA_TEST_KEY" all
	refute grep -rqF "$CA_TEST_KEY" "$XDG_CACHE_HOME"
}

@test "a file over the 500 MB limit is refused before sending" {
	truncate -s 600M big
	truncate -s 524288001 edge
	echo a >a.txt
	run --separate-stderr ca-upload big edge a.txt
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-upload: big: 629145600 bytes is over the Files API's limit of 524288000 bytes (500 MB)
ca-upload: edge: 524288001 bytes is over the Files API's limit of 524288000 bytes (500 MB)" ]
	[ "$(jq -r '.type + " " + .path' <<<"$output" | paste -sd ' ')" = "error big error edge file a.txt" ]
	[ "$(posts)" -eq 1 ]
}

@test "-v notes uploads and cache hits; without -v stderr stays empty" {
	echo v >v.txt
	run --separate-stderr ca-upload -v v.txt
	[ "$status" -eq 0 ]
	id=$(jq -r .file.id <<<"$output")
	[ "$stderr" = "ca-upload: v.txt: uploaded as $id (2 bytes, text/plain)" ]
	run --separate-stderr ca-upload --verbose v.txt
	[ "$stderr" = "ca-upload: v.txt: cached as $id; not uploading again" ]
	run --separate-stderr ca-upload v.txt
	[ -z "$stderr" ]
}

@test "no progress bar when stderr is not a terminal" {
	head -c 2097152 /dev/urandom >two.bin
	run --separate-stderr ca-upload two.bin
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a progress bar on a terminal for big files, erased after; -q silences it" {
	command -v script >/dev/null || skip "script(1) is not installed"
	[ -z "${CA_VALGRIND:-}" ] || skip "the pty runs the plain binary"
	head -c 3145728 /dev/urandom >three.bin
	script -qec "ca-upload -n three.bin >out" /dev/null >tty
	[ "$(jq -r .path out)" = three.bin ]
	grep -q 'three.bin \[.*\] *[0-9]*% .*MiB' tty
	# The last thing drawn is blank: the bar is erased.
	[ -z "$(tr '\r' '\n' <tty | tail -1 | tr -d ' \n')" ]
	script -qec "ca-upload -n -q three.bin >out" /dev/null >tty
	[ "$(jq -r .path out)" = three.bin ]
	refute grep -q 'MiB' tty
	echo small >small.txt
	script -qec "ca-upload -n small.txt >out" /dev/null >tty
	refute grep -q 'MiB' tty
}

@test "--help lists every option on stdout and exits 0" {
	run --separate-stderr ca-upload --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == "usage: ca-upload [-0nqv] [-e seconds] [-t type] [path ...]"* ]]
	for f in -0 --null -e --expires -n --no-cache -q --quiet -t --type -v --verbose -h --help; do
		grep -qe " $f" <<<"$output"
	done
	run --separate-stderr ca-upload -h
	[ "$status" -eq 0 ]
}

@test "options end at the first path: a later \"-t\" is a path" {
	echo a >a.txt
	run --separate-stderr ca-upload a.txt -t
	[ "$status" -eq 1 ]
	[ "$(posts)" -eq 1 ]
}

@test "-- ends the options, so a path may start with a dash" {
	echo dash >-v.txt
	run --separate-stderr ca-upload -- -v.txt
	[ "$status" -eq 0 ]
	[ "$(jq -r .path <<<"$output")" = -v.txt ]
}

@test "a closed stdout stops the run at the first record" {
	echo a >a.txt; echo b >b.txt
	run --separate-stderr bash -c 'ca-upload -n a.txt b.txt >&-'
	# The output is not complete: 74, by ca(7)'s rule.
	[ "$status" -eq 74 ]
	[[ "$stderr" == "ca-upload: write error on standard output: Bad file descriptor" ]]
	[ "$(posts)" -eq 1 ]
}

@test "a file rewritten during its upload is reported, not cached" {
	printf 'a,b\n1,2\n' >data.csv
	emu_fault '[{"method":"POST","path":"/v1/files","latency_ms":2000,"times":1}]'
	ca-upload data.csv >out 2>err &
	pid=$!
	# Once it has a connection open, it has hashed the file and is
	# sending it: only then change the file (a fixed sleep is too short
	# under valgrind).
	for _ in $(seq 100); do
		for p in $(pgrep -f 'ca-upload data.csv'); do
			ls -l "/proc/$p/fd" 2>/dev/null | grep -q 'socket:' && break 2
		done
		sleep 0.1
	done
	touch -d '2021-01-01' data.csv
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	[ "$(cat err)" = "ca-upload: data.csv: the file changed while it was being uploaded; upload it again" ]
	[ "$(jq -r '[.type, .path, .error.type] | join(" ")' out)" = "error data.csv file_error" ]
	[ -z "$(ls -A "$XDG_CACHE_HOME/ca/files" 2>/dev/null)" ]
}

statentry() { find "$XDG_CACHE_HOME/ca/stat" -type f ! -name '.tmp.*' 2>/dev/null; }

@test "an unchanged file is not read again: its digest comes from the stat cache" {
	head -c 1048576 /dev/urandom >data.bin
	sum=$(sha256sum data.bin | cut -c1-64)
	# Timestamps only show changes a clock tick after the read.
	sleep 0.2
	run -0 --separate-stderr ca-upload data.bin
	[ "$(jq -r .sha256 <<<"$output")" = "$sum" ]
	[ "$(statentry | wc -l)" -eq 1 ]
	grep -q " $sum\$" "$(statentry)"
	# Prove the second run trusts the entry instead of reading the file:
	# a forged digest in it shows up in the record.
	fake=$(printf '%064d' 7)
	sed -i "s/$sum/$fake/" "$(statentry)"
	run -0 --separate-stderr ca-upload -v data.bin
	[ "$(jq -r .sha256 <<<"$output")" = "$fake" ]
	[[ "$stderr" == *"data.bin: unchanged since it was last hashed"* ]]
}

@test "a file rewritten with the same size is hashed again" {
	head -c 1048576 /dev/zero >data.txt
	sleep 0.2
	run -0 ca-upload data.txt
	[ "$(statentry | wc -l)" -eq 1 ]
	head -c 1048576 /dev/zero | tr '\0' a >data.txt
	run -0 --separate-stderr ca-upload -v data.txt
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum data.txt | cut -c1-64)" ]
	[[ "$stderr" != *unchanged* ]]
	[ "$(jq -r .file.id <<<"$output")" != null ]
	[ "$(posts)" -eq 2 ]
}

@test "a file stamped too recently to trust is not put in the stat cache" {
	head -c 1048576 /dev/urandom >new.bin
	# A change within a clock tick of the read could keep every field
	# the cache compares; a time ahead of the read is the sure case.
	touch -d '+1 hour' new.bin
	run -0 ca-upload new.bin
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum new.bin | cut -c1-64)" ]
	[ -z "$(statentry)" ]
}

@test "a small file is hashed each time, faster than a stat cache entry" {
	printf 'x\n' >small.txt
	sleep 0.2
	run -0 ca-upload small.txt
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum small.txt | cut -c1-64)" ]
	[ -z "$(statentry)" ]
}

@test "--no-cache hashes the bytes as they are sent, once, even across retries" {
	head -c 300000 /dev/urandom >data.bin
	emu_fault '[{"method":"POST","path":"/v1/files","reset":"before_headers","read_body_bytes":50000,"times":1},{"method":"POST","path":"/v1/files","status":529,"times":1}]'
	run -0 --separate-stderr ca-upload -n data.bin
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum data.bin | cut -c1-64)" ]
	[ "$(posts)" -eq 3 ]
	[ -z "$(statentry)" ]
}
