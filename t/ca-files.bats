#!/usr/bin/env bats
# ca-files against the local API emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

setup() {
	ca_test_setup
	clear_files
	emu_reset
}

# Files outlive emu_reset: delete them all, behind the tool's back.
clear_files() {
	local id
	for id in $(api "$EMU_URL/v1/files?limit=1000" | jq -r '.data[].id'); do
		api -X DELETE "$EMU_URL/v1/files/$id" >/dev/null
	done
}

# mkfiles N: N files, f1.txt (oldest) .. fN.txt; their ids, newest first.
mkfiles() {
	local i made=()
	for i in $(seq "$1"); do
		made=("$(emu_file "f$i.txt" "$i")" "${made[@]}")
	done
	printf '%s\n' "${made[@]}"
}

list_gets() { emu_log /v1/files | jq -c 'select(.method == "GET")'; }

@test "lists every file as a file record, across GA pages" {
	ids=$(mkfiles 5)
	run --separate-stderr ca-files -l 2 </dev/null
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(jq -r .file.id <<<"$output")" = "$ids" ]
	[ "$(jq -r '[.type, (has("path") | tostring), .file.type] | join(" ")' <<<"$output" | sort -u)" = "file false file" ]
	[ "$(jq -r .file.filename <<<"$output" | tr '\n' ' ')" = "f5.txt f4.txt f3.txt f2.txt f1.txt " ]
	# Three requests: no cursor, then each page's next_page.
	list_gets >log
	[ "$(wc -l <log)" -eq 3 ]
	[ "$(jq -c .query <log | sed -n 1p)" = '{"limit":["2"]}' ]
	[ "$(jq -r '.headers | has("anthropic-beta")' <log | sort -u)" = false ]
	p1=$(api "$EMU_URL/v1/files?limit=2" | jq -r .next_page)
	p2=$(api "$EMU_URL/v1/files?limit=2&page=$p1" | jq -r .next_page)
	[ "$(jq -c .query <log | sed -n 2p)" = "{\"limit\":[\"2\"],\"page\":[\"$p1\"]}" ]
	[ "$(jq -c .query <log | sed -n 3p)" = "{\"limit\":[\"2\"],\"page\":[\"$p2\"]}" ]
	# The metadata is the API's, unchanged.
	json_eq "$(sed -n 1p <<<"$output" | jq -c .file)" \
		"$(api "$EMU_URL/v1/files/$(sed -n 1p <<<"$ids")")"
}

@test "the default page size is 100; an empty workspace lists nothing" {
	run --separate-stderr ca-files
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(list_gets | jq -c .query)" = '{"limit":["100"]}' ]
	mkfiles 3 >/dev/null
	run --separate-stderr ca-files
	[ "${#lines[@]}" -eq 3 ]
}

@test "--betas legacy: the beta header and after_id paging" {
	ids=$(mkfiles 5)
	run --separate-stderr ca-files --betas legacy -l 2
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.id <<<"$output")" = "$ids" ]
	list_gets >log
	[ "$(wc -l <log)" -eq 3 ]
	[ "$(jq -r '.headers["anthropic-beta"]' <log | sort -u)" = files-api-2025-04-14 ]
	[ "$(jq -c .query <log | sed -n 1p)" = '{"limit":["2"]}' ]
	[ "$(jq -c .query <log | sed -n 2p)" = "{\"limit\":[\"2\"],\"after_id\":[\"$(sed -n 2p <<<"$ids")\"]}" ]
	[ "$(jq -c .query <log | sed -n 3p)" = "{\"limit\":[\"2\"],\"after_id\":[\"$(sed -n 4p <<<"$ids")\"]}" ]
}

@test "--betas sends any other list as given" {
	run --separate-stderr ca-files --betas files-api-2025-04-14,mcp-client-2025-11-20
	[ "$status" -eq 0 ]
	[ "$(list_gets | jq -r '.headers["anthropic-beta"]')" = files-api-2025-04-14,mcp-client-2025-11-20 ]
}

@test "whichever shape arrives is understood" {
	# A beta-shaped page to a GA request: paged on with after_id.
	emu_fault '[{"path": "/v1/files", "method": "GET", "status": 200,
		"body": {"data": [{"id": "file_b1", "type": "file"}], "has_more": true,
			"first_id": "file_b1", "last_id": "file_b1"}},
		{"path": "/v1/files", "method": "GET", "status": 200,
		"body": {"data": [{"id": "file_b2", "type": "file"}], "has_more": false,
			"first_id": "file_b2", "last_id": "file_b2"}}]'
	run --separate-stderr ca-files -l 1
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.id <<<"$output" | tr '\n' ' ')" = "file_b1 file_b2 " ]
	[ "$(list_gets | jq -c .query | sed -n 2p)" = '{"limit":["1"],"after_id":["file_b1"]}' ]
	# A GA-shaped page to a beta request: paged on with page.
	emu_reset
	emu_fault '[{"path": "/v1/files", "method": "GET", "status": 200,
		"body": {"data": [{"id": "file_g1", "type": "file"}], "next_page": "cur/1+x"}},
		{"path": "/v1/files", "method": "GET", "status": 200,
		"body": {"data": [{"id": "file_g2", "type": "file"}], "next_page": null}}]'
	run --separate-stderr ca-files --betas legacy -l 1
	[ "$status" -eq 0 ]
	[ "$(jq -r .file.id <<<"$output" | tr '\n' ' ')" = "file_g1 file_g2 " ]
	# The cursor is sent percent-encoded and arrives intact.
	[ "$(list_gets | jq -c .query | sed -n 2p)" = '{"limit":["1"],"page":["cur/1+x"]}' ]
}

@test "a server that repeats its cursor is stopped" {
	emu_fault '[{"path": "/v1/files", "method": "GET", "status": 200, "times": -1,
		"body": {"data": [{"id": "file_r", "type": "file"}], "next_page": "same"}}]'
	run --separate-stderr ca-files
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-files: list: the server repeats the cursor; stopping" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "a malformed page, an API error, an overloaded API" {
	emu_fault '[{"path": "/v1/files", "status": 200, "body": "<html>nope</html>"}]'
	run --separate-stderr ca-files
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"ca-files: list: malformed response (request-id req_" ]]
	emu_fault '[{"path": "/v1/files", "status": 401}]'
	run --separate-stderr ca-files
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"ca-files: list: 401 authentication_error: invalid x-api-key (request-id req_" ]]
	emu_fault '[{"path": "/v1/files", "status": 529, "times": -1}]'
	run --separate-stderr ca-files
	[ "$status" -eq 75 ]
	[[ "$stderr" =~ ^"ca-files: list: 529 overloaded_error: Overloaded (request-id req_" ]]
	refute grep -q "$CA_TEST_KEY" <<<"$stderr"
}

@test "listing does not read stdin" {
	mkfiles 1 >/dev/null
	run --separate-stderr bash -c 'echo "not a record" | ca-files'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "-d deletes the files of file and fetched records once its input ends" {
	ids=$(mkfiles 3)
	a=$(sed -n 1p <<<"$ids")
	b=$(sed -n 2p <<<"$ids")
	c=$(sed -n 3p <<<"$ids")
	{
		jq -cn --arg id "$a" '{type: "file", path: "sales.csv", file: {id: $id, type: "file"}}'
		echo '{"type":"note",  "x": "é"}'
		jq -cn --arg id "$b" '{type: "fetched", custom_id: "r1", file: {id: $id}, path: "out/chart.png", sha256: "00", size: 1}'
		jq -cn --arg id "$a" '{type: "fetched", custom_id: "r2", file: {id: $id}, path: "out/again.csv"}'
		jq -cn --arg id "$c" '{type: "file", file: {id: $id}}'
		jq -cn --arg id "$c" '{type: "response", custom_id: "r3", file: {id: $id}}'
	} >in
	run --separate-stderr ca-files -d <in
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# Every record passed through byte for byte, in order.
	grep -v '^{"type":"deleted"' <<<"$output" >passed
	cmp passed in
	# After the input ended, a deleted record for each id, in order.
	[ "$(sed -n 7p <<<"$output")" = "{\"type\":\"deleted\",\"id\":\"$a\",\"path\":\"sales.csv\"}" ]
	[ "$(sed -n 8p <<<"$output")" = "{\"type\":\"deleted\",\"id\":\"$b\",\"path\":\"out/chart.png\"}" ]
	[ "$(sed -n 9p <<<"$output")" = "{\"type\":\"deleted\",\"id\":\"$c\"}" ]
	[ "${#lines[@]}" -eq 9 ]
	# One DELETE per id, in order; the files are gone.
	[ "$(emu_log | jq -r 'select(.method == "DELETE") | .path')" = \
"/v1/files/$a
/v1/files/$b
/v1/files/$c" ]
	[ -z "$(api "$EMU_URL/v1/files" | jq -r '.data[].id')" ]
}

@test "-d: a 404 is reported, the others are still deleted" {
	ids=$(mkfiles 2)
	{
		echo '{"type":"file","file":{"id":"file_gone"}}'
		sed 's/.*/{"type":"file","file":{"id":"&"}}/' <<<"$ids"
	} >in
	run --separate-stderr ca-files -d <in
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"ca-files: file_gone: 404 not_found_error: File not found: file_gone (request-id req_"[A-Za-z0-9]+")"$ ]]
	[ "$(grep -c '"type":"deleted"' <<<"$output")" -eq 2 ]
	[ "$(emu_log | jq -r 'select(.method == "DELETE")' | jq -s length)" -eq 3 ]
	[ -z "$(api "$EMU_URL/v1/files" | jq -r '.data[].id')" ]
}

@test "-d: a record without file.id and a bad line are reported, the rest flows" {
	ids=$(mkfiles 1)
	{
		echo '{"type":"file","path":"x"}'
		echo '{broken'
		echo "{\"type\":\"file\",\"file\":{\"id\":\"$ids\"}}"
	} >in
	run --separate-stderr ca-files -d <in
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ca-files: <stdin>:1: file record without file.id, skipped
ca-files: <stdin>:2: not a JSON object, skipped' ]
	[ "$(sed -n 1p <<<"$output")" = '{"type":"file","path":"x"}' ]
	[ "$(sed -n 3p <<<"$output")" = "{\"type\":\"deleted\",\"id\":\"$ids\"}" ]
}

@test "-d: an id that is no path segment is refused without a request" {
	echo '{"type":"file","file":{"id":".."}}' >in
	run --separate-stderr ca-files -d <in
	[ "$status" -eq 1 ]
	[ "$stderr" = 'ca-files: invalid file id ".."' ]
	[ -z "$(emu_log | jq -r 'select(.method == "DELETE")')" ]
}

@test "-d deletes nothing after an error record, unless -f" {
	ids=$(mkfiles 2)
	{
		sed 's/.*/{"type":"file","file":{"id":"&"}}/' <<<"$ids"
		echo '{"type":"error","custom_id":"r1","status":529,"error":{"type":"overloaded_error","message":"Overloaded"}}'
	} >in
	run --separate-stderr ca-files -d <in
	[ "$status" -eq 75 ]
	[ "$stderr" = "ca-files: an error record came through; deleting nothing (-f deletes anyway)" ]
	cmp <(printf '%s\n' "$output") in
	[ -z "$(emu_log | jq -r 'select(.method == "DELETE")')" ]
	[ "$(api "$EMU_URL/v1/files" | jq -r '.data | length')" -eq 2 ]
	# A permanent error upstream makes it exit 1; -f deletes all the same.
	sed -i 's/"status":529/"status":400/; s/overloaded_error/invalid_request_error/' in
	run --separate-stderr ca-files -d -f <in
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	[ "$(grep -c '"type":"deleted"' <<<"$output")" -eq 2 ]
	[ -z "$(api "$EMU_URL/v1/files" | jq -r '.data[].id')" ]
}

@test "a listing piped into -d empties the workspace" {
	mkfiles 4 >/dev/null
	run --separate-stderr bash -c 'ca-files -l 3 | ca-files -d'
	[ "$status" -eq 0 ]
	[ "$(grep -c '"type":"deleted"' <<<"$output")" -eq 4 ]
	run --separate-stderr ca-files
	[ -z "$output" ]
}

@test "-v notes each request" {
	ids=$(mkfiles 1)
	run --separate-stderr ca-files -v -l 5
	[ "$status" -eq 0 ]
	[ "$stderr" = "ca-files: GET /v1/files?limit=5" ]
	run --separate-stderr bash -c "ca-files | ca-files -d -v"
	[ "$stderr" = "ca-files: DELETE /v1/files/$ids" ]
}

@test "usage: --help and -h" {
	run --separate-stderr ca-files --help
	[ "$status" -eq 0 ]
	[ "$(head -2 <<<"$output")" = "usage: ca-files [-v] [-l limit] [--betas list]
       ca-files -d [-fv]" ]
	[ -z "$stderr" ]
	help=$output
	run --separate-stderr ca-files -h
	[ "$status" -eq 0 ]
	[ "$output" = "$help" ]
}

@test "a cursor loop, however long, stops the listing" {
	emu_fault '[{"method":"GET","path":"/v1/files","status":200,"body":{"data":[],"next_page":"A"},"times":1},
		{"method":"GET","path":"/v1/files","status":200,"body":{"data":[],"next_page":"B"},"times":1},
		{"method":"GET","path":"/v1/files","status":200,"body":{"data":[],"next_page":"A"},"times":1}]'
	run --separate-stderr ca-files
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-files: list: the server repeats the cursor; stopping" ]
	[ "$(list_gets | wc -l)" -eq 3 ]
}

@test "has_more without a last_id is an error, not a silent end" {
	emu_fault '[{"method":"GET","path":"/v1/files","status":200,"body":{"data":[],"has_more":true,"first_id":null,"last_id":null},"times":1}]'
	run --separate-stderr ca-files --betas legacy
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-files: list: has_more without a last_id; stopping" ]
}

@test "ca-files | ca-render calls generated files generated, uploaded ones uploaded" {
	gen=$(emu_file chart.png x)
	printf 'a,b\n' >data.csv
	up=$(ca-upload data.csv | jq -r .file.id)
	run --separate-stderr sh -c 'ca-files | ca-render --color=never'
	[ "$status" -eq 0 ]
	grep -qx "generated chart.png → $gen (1 bytes)" <<<"$output"
	grep -qx "uploaded data.csv → $up (4 bytes)" <<<"$output"
	run --separate-stderr sh -c 'ca-files | ca-render -f markdown'
	[ "$status" -eq 0 ]
	grep -qx '## Files' <<<"$output"
	grep -qF "generated \`chart.png\` → \`$gen\`" <<<"$output"
}
