#!/usr/bin/env bats
# ca-request builds request records; it sends nothing.

load test_helper
bats_require_minimum_version 1.5.0

FILE_CSV='{"type":"file","path":"sales.csv","file":{"id":"file_csv","type":"file","filename":"sales.csv","mime_type":"text/csv","size_bytes":10,"downloadable":false}}'
FILE_PNG='{"type":"file","path":"a.png","file":{"id":"file_png","type":"file","filename":"a.png","mime_type":"image/png","size_bytes":10,"downloadable":false}}'
FILE_PDF='{"type":"file","path":"r.pdf","file":{"id":"file_pdf","type":"file","filename":"r.pdf","mime_type":"application/pdf","size_bytes":10,"downloadable":false}}'
FILE_TXT='{"type":"file","path":"n.txt","file":{"id":"file_txt","type":"file","filename":"n.txt","mime_type":"text/plain","size_bytes":10,"downloadable":false}}'

# A generated custom_id is rN-<time>-<pid>[-<count>], as the Batches API
# takes them; print each record with its id cut to rN.
idcut() {
	jq -ec 'if .type == "request" then
		(.custom_id | test("^r[0-9]+-[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)?$")) as $ok
		| if $ok and (.custom_id | length) <= 64 then .custom_id |= sub("-.*"; "") else error("bad id " + .custom_id) end
		else . end'
}

@test "a prompt from operands becomes one request record with defaults" {
	run --separate-stderr ca-request plot monthly revenue </dev/null
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	json_eq "$(idcut <<<"$output")" '{"type":"request","custom_id":"r1","betas":[],"params":{"model":"claude-opus-5-5","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"plot monthly revenue"}]}],"tools":[{"type":"code_execution_20260521","name":"code_execution"}]}}'
}

@test "file records become container_upload blocks and pass through first" {
	run --separate-stderr ca-request -m claude-sonnet-4-6 'sum it' <<<"$FILE_CSV
$FILE_PNG"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p <<<"$output")" = "$FILE_CSV" ]
	[ "$(sed -n 2p <<<"$output")" = "$FILE_PNG" ]
	req=$(sed -n 3p <<<"$output")
	json_eq "$(jq -c '.params.messages[0].content' <<<"$req")" \
		'[{"type":"text","text":"sum it"},{"type":"container_upload","file_id":"file_csv"},{"type":"container_upload","file_id":"file_png"}]'
}

@test "--inline sends images, PDFs and text as image/document blocks" {
	run --separate-stderr ca-request --inline x <<<"$FILE_CSV
$FILE_PNG
$FILE_PDF
$FILE_TXT"
	[ "$status" -eq 0 ]
	json_eq "$(tail -1 <<<"$output" | jq -c '.params.messages[0].content[1:]')" \
		'[{"type":"container_upload","file_id":"file_csv"},{"type":"image","source":{"type":"file","file_id":"file_png"}},{"type":"document","source":{"type":"file","file_id":"file_pdf"}},{"type":"document","source":{"type":"file","file_id":"file_txt"}}]'
}

@test "-I is --inline" {
	run --separate-stderr ca-request -I x <<<"$FILE_PNG"
	[ "$(tail -1 <<<"$output" | jq -r '.params.messages[0].content[1].type')" = image ]
}

@test "unknown records pass through byte for byte, in order" {
	in='{"type":"mystery",  "keep":"spacing" , "n":1.50}
{"type":"other","x":[1,2]}'
	run --separate-stderr ca-request hi <<<"$in"
	[ "$status" -eq 0 ]
	[ "$(head -2 <<<"$output")" = "$in" ]
	[ "$(sed -n 3p <<<"$output" | jq -r .type)" = request ]
}

@test "options set model, max_tokens, system, container, id, tool" {
	run --separate-stderr ca-request -m claude-sonnet-4-6 -M 1000 \
		-s 'be brief' -c container_abc -i job-7 \
		-T code_execution_20250522 hello </dev/null
	[ "$status" -eq 0 ]
	json_eq "$(jq -c '{custom_id, m: .params.model, t: .params.max_tokens, s: .params.system, c: .params.container, tool: .params.tools[0].type}' <<<"$output")" \
		'{"custom_id":"job-7","m":"claude-sonnet-4-6","t":1000,"s":"be brief","c":"container_abc","tool":"code_execution_20250522"}'
}

@test "long options do the same as short ones" {
	run --separate-stderr ca-request --model claude-sonnet-4-6 --max-tokens 99 \
		--system S --container C --id X --tool code_execution_20250825 hi </dev/null
	json_eq "$(jq -c '{custom_id, m: .params.model, t: .params.max_tokens, s: .params.system, c: .params.container, tool: .params.tools[0].type}' <<<"$output")" \
		'{"custom_id":"X","m":"claude-sonnet-4-6","t":99,"s":"S","c":"C","tool":"code_execution_20250825"}'
}

@test "the default tool is the newest the model supports" {
	CA_TODAY=2026-06-01 run --separate-stderr ca-request -m claude-opus-4-20250514 hi </dev/null
	[ "$(jq -r '.params.tools[0].type' <<<"$output")" = code_execution_20250825 ]
	run --separate-stderr ca-request --any-model -m claude-3-7-sonnet-20250219 hi </dev/null
	[ "$(jq -r '.params.tools[0].type' <<<"$output")" = code_execution_20250522 ]
	run ca-request -m claude-haiku-4-5 hi </dev/null
	[ "$(jq -r '.params.tools[0].type' <<<"$output")" = code_execution_20260521 ]
}

@test "every model of the table is accepted until its end of life, then refused" {
	[ "$(tsv_models all | wc -l)" -ge 20 ]
	for m in $(tsv_models served 2026-06-01); do
		CA_TODAY=2026-06-01 ca-request -m "$m" hi </dev/null >/dev/null || { echo "refused $m"; return 1; }
	done
	# claude-3-7-sonnet-20250219 and claude-3-5-haiku-latest are retired.
	[ "$(tsv_models retired 2026-06-01 | tr '\n' ' ')" = "claude-3-7-sonnet-20250219 claude-3-5-haiku-latest " ]
	for m in $(tsv_models retired 2027-02-01); do
		CA_TODAY=2027-02-01 run --separate-stderr ca-request -m "$m" hi </dev/null
		[ "$status" -eq 2 ] || { echo "accepted $m"; return 1; }
		is_refused ca-request usage_error
		[[ "$stderr" == "ca-request: $m "*"retired"* || "$stderr" == "ca-request: $m reached its end of life on "* ]]
	done
}

@test "a retired model is refused, with no suggestion of it elsewhere" {
	run --separate-stderr ca-request -m claude-3-7-sonnet-20250219 hi </dev/null
	[ "$status" -eq 2 ]
	is_refused ca-request usage_error
	[ "${stderr_lines[0]}" = "ca-request: claude-3-7-sonnet-20250219 is retired: requests naming it fail; choose a newer model (or --any-model to try anyway)" ]
	run --separate-stderr ca-request --any-model -m claude-3-7-sonnet-20250219 hi </dev/null
	[ "$status" -eq 0 ]
}

@test "a typo in a model name gets one did-you-mean line" {
	run --separate-stderr ca-request -m claude-sonnet-4.6 hi </dev/null
	[ "$status" -eq 2 ]
	is_refused ca-request usage_error
	[ "${stderr_lines[0]}" = "ca-request: unknown model claude-sonnet-4.6; did you mean claude-sonnet-4-6?" ]
	run --separate-stderr ca-request -m claude-opus-5-4 hi </dev/null
	[ "${stderr_lines[0]}" = "ca-request: unknown model claude-opus-5-4; did you mean claude-opus-5-5 or claude-opus-4-8?" ] ||
	[[ "${stderr_lines[0]}" == "ca-request: unknown model claude-opus-5-4; did you mean "*"?" ]]
	# At most three, on one line; a retired model is never suggested.
	run --separate-stderr ca-request -m claude-fable-5-9 hi </dev/null
	[[ "${stderr_lines[0]}" =~ ^"ca-request: unknown model claude-fable-5-9; did you mean "[a-z0-9-]+(", "[a-z0-9-]+)?(" or "[a-z0-9-]+)?"?"$ ]]
	run --separate-stderr ca-request -m claude-3-7-sonnet-2025021 hi </dev/null
	refute grep -q 'did you mean claude-3-7' <<<"$stderr"
	# A past end of life is never suggested either: sonnet-4-5 is past it.
	CA_TODAY=2026-12-07 run --separate-stderr ca-request -m claude-sonnet-4.5 hi </dev/null
	refute grep -q 'claude-sonnet-4-5' <<<"$stderr"
	CA_TODAY=2026-06-01 run --separate-stderr ca-request -m claude-sonnet-4.5 hi </dev/null
	[ "${stderr_lines[0]}" = "ca-request: unknown model claude-sonnet-4.5; did you mean claude-sonnet-4-5?" ]
}

@test "--any-model overrides the check and picks the newest tool" {
	run --separate-stderr ca-request --any-model -m claude-future-9 hi </dev/null
	[ "$status" -eq 0 ]
	[ "$(jq -r '.params.model + " " + .params.tools[0].type' <<<"$output")" = "claude-future-9 code_execution_20260521" ]
}

@test "--betas auto sends none; legacy sends the historical headers" {
	run ca-request hi <<<"$FILE_CSV"
	json_eq "$(tail -1 <<<"$output" | jq -c .betas)" '[]'
	run ca-request --betas legacy -T code_execution_20250522 -m claude-sonnet-4-6 hi </dev/null
	json_eq "$(jq -c .betas <<<"$output")" '["code-execution-2025-05-22"]'
	run ca-request --betas legacy -T code_execution_20250825 hi <<<"$FILE_CSV"
	json_eq "$(tail -1 <<<"$output" | jq -c .betas)" '["code-execution-2025-08-25","files-api-2025-04-14"]'
	run ca-request --betas legacy hi </dev/null
	json_eq "$(jq -c .betas <<<"$output")" '["code-execution-2025-08-25"]'
}

@test "--beta adds any other, repeatable; --betas none sends only those" {
	run ca-request --betas legacy -b foo-2026-01-01 --beta bar hi </dev/null
	json_eq "$(jq -c .betas <<<"$output")" '["code-execution-2025-08-25","foo-2026-01-01","bar"]'
	run ca-request --betas none --beta only-this hi <<<"$FILE_CSV"
	json_eq "$(tail -1 <<<"$output" | jq -c .betas)" '["only-this"]'
}

@test "-f reads the prompt from a file" {
	printf 'line one\nline two\n' >prompt.txt
	run ca-request -f prompt.txt </dev/null
	[ "$(jq -r '.params.messages[0].content[0].text' <<<"$output")" = $'line one\nline two' ]
}

@test "-n does not read standard input" {
	run ca-request -n hi <<<"$FILE_CSV"
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[ "$(jq '.params.messages[0].content | length' <<<"$output")" -eq 1 ]
}

@test "custom ids stay unique when requests are chained" {
	run bash -c 'ca-request one </dev/null | ca-request two | ca-request three'
	[ "$(idcut <<<"$output" | jq -r .custom_id | tr '\n' ' ')" = "r1 r2 r3 " ]
	[ "$(jq -r .custom_id <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

@test "a bad input line is reported with its line number; the rest flows" {
	run --separate-stderr ca-request hi <<<"$FILE_CSV
not json
{\"no\":\"type\"}
$FILE_PNG"
	[ "$status" -eq 1 ]
	[ "$(jq -s 'length' <<<"$output")" -eq 3 ]
	[ "$(tail -1 <<<"$output" | jq -c '[.params.messages[0].content[].file_id]')" = '[null,"file_csv","file_png"]' ]
	[[ "$stderr" == *"ca-request: <stdin>:2: not a JSON object, skipped"* ]]
	[[ "$stderr" == *"ca-request: <stdin>:3: record has no \"type\", skipped"* ]]
}

@test "--help lists every flag and exits 0" {
	run ca-request --help
	[ "$status" -eq 0 ]
	for f in -C -I -k -n -v -b -c -f -i -m -M -s -T --betas --any-model --fresh-container --keep-going --version; do
		[[ "$output" == *"$f"* ]] || { echo "missing $f"; return 1; }
	done
}

# --continue: the transcript of an earlier turn, as ca-exec wrote it.
transcript() {
	local exp=${1:-2099-01-01T00:00:00Z}
	cat <<EOT
$FILE_CSV
{"type":"request","custom_id":"r1","betas":["code-execution-2025-08-25"],"params":{"model":"claude-sonnet-4-6","max_tokens":500,"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"first"},{"type":"container_upload","file_id":"file_csv"}]}],"tools":[{"type":"code_execution_20250825","name":"code_execution"}]}}
{"type":"event","custom_id":"r1","part":1,"event":{"type":"message_stop"}}
{"type":"response","custom_id":"r1","part":1,"message":{"id":"m1","type":"message","role":"assistant","content":[{"type":"text","text":"A"},{"type":"server_tool_use","id":"s1","name":"bash_code_execution","input":{"command":"ls"}}],"stop_reason":"pause_turn","container":{"id":"container_1","expires_at":"$exp"}}}
{"type":"response","custom_id":"r1","part":2,"message":{"id":"m2","type":"message","role":"assistant","content":[{"type":"bash_code_execution_tool_result","tool_use_id":"s1","content":{"type":"bash_code_execution_result","stdout":"x","stderr":"","return_code":0,"content":[]}},{"type":"text","text":"B"}],"stop_reason":"end_turn","container":{"id":"container_1","expires_at":"$exp"}}}
{"type":"fetched","custom_id":"r1","file":{"id":"file_out"},"path":"out/a.png","sha256":"00","size":1}
EOT
}

@test "--continue builds the next turn from the transcript" {
	run --separate-stderr ca-request --continue 'and now?' < <(transcript)
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	json_eq "$(idcut <<<"$output")" '{"type":"request","custom_id":"r2","betas":["code-execution-2025-08-25"],"params":{"model":"claude-sonnet-4-6","max_tokens":500,"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"first"},{"type":"container_upload","file_id":"file_csv"}]},{"role":"assistant","content":[{"type":"text","text":"A"},{"type":"server_tool_use","id":"s1","name":"bash_code_execution","input":{"command":"ls"}},{"type":"bash_code_execution_tool_result","tool_use_id":"s1","content":{"type":"bash_code_execution_result","stdout":"x","stderr":"","return_code":0,"content":[]}},{"type":"text","text":"B"}]},{"role":"user","content":[{"type":"text","text":"and now?"}]}],"tools":[{"type":"code_execution_20250825","name":"code_execution"}],"container":"container_1"}}'
}

@test "--continue attaches only files that come after the last turn" {
	run --separate-stderr ca-request -C 'compare' < <(transcript; echo "$FILE_PNG")
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$output")" = "$FILE_PNG" ]
	json_eq "$(tail -1 <<<"$output" | jq -c '.params.messages[-1].content')" \
		'[{"type":"text","text":"compare"},{"type":"container_upload","file_id":"file_png"}]'
}

@test "--continue keeps the model unless -m, and -c overrides the container" {
	run ca-request -C -m claude-opus-4-8 -c container_other next < <(transcript)
	[ "$(jq -r '.params.model + " " + .params.container' <<<"$output")" = "claude-opus-4-8 container_other" ]
}

@test "--continue with an expired container is a clear error" {
	run --separate-stderr ca-request -C next < <(transcript 2020-01-01T00:00:00Z)
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "ca-request: container container_1 expired at 2020-01-01T00:00:00Z; use --fresh-container to start a new one" ]
}

@test "--fresh-container starts without the expired container, with a warning" {
	run --separate-stderr ca-request -C --fresh-container next < <(transcript 2020-01-01T00:00:00Z)
	[ "$status" -eq 0 ]
	[ "$(jq 'has("params") and (.params | has("container") | not)' <<<"$output")" = true ]
	[ "$stderr" = "ca-request: container container_1 expired at 2020-01-01T00:00:00Z; starting a fresh one (earlier files are gone)" ]
}

# A turn that failed after the transcript's answered one: its request
# (built on r1, attaching EXTRA) and an error record instead of a response.
failed_turn() {
	local id=$1 extra=${2:-}
	jq -c --arg id "$id" --argjson extra "[${extra}]" '
		select(.type == "request") | .custom_id = $id |
		.params.messages += [{"role":"assistant","content":[{"type":"text","text":"A"}]},
			{"role":"user","content":([{"type":"text","text":"lost"}] + $extra)}] |
		.params.container = "container_1"' < <(transcript)
	echo "{\"type\":\"error\",\"custom_id\":\"$id\",\"part\":1,\"status\":529,\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
}

@test "--continue skips failed turns, says which, and builds on the last answer" {
	run --separate-stderr ca-request -C 'and now?' < <(transcript; failed_turn r2; failed_turn r3)
	[ "$status" -eq 0 ]
	[ "$stderr" = "ca-request: --continue: skipped the failed turns r2, r3 (no response); continuing from r1" ]
	# Exactly what the first test builds after r1 alone.
	expected=$(ca-request --continue 'and now?' < <(transcript) 2>/dev/null | jq -c .params)
	json_eq "$(jq -c .params <<<"$output")" "$expected"
	[ "$(jq -r .params.container <<<"$output")" = container_1 ]
}

@test "--continue attaches again the files of the turns it skips, once" {
	local png='{"type":"container_upload","file_id":"file_png"}'
	run --separate-stderr ca-request -C again < <(transcript; failed_turn r2 "$png"; failed_turn r3 "$png"; echo "$FILE_TXT")
	[ "$status" -eq 0 ]
	json_eq "$(tail -1 <<<"$output" | jq -c '.params.messages[-1].content')" \
		'[{"type":"text","text":"again"},{"type":"container_upload","file_id":"file_txt"},{"type":"container_upload","file_id":"file_png"}]'
}

@test "--continue when no turn was answered starts over with the same settings" {
	run --separate-stderr ca-request -C next <<<'{"type":"request","custom_id":"r9","params":{"model":"claude-sonnet-4-6","max_tokens":500,"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"lost"},{"type":"container_upload","file_id":"file_csv"}]}]}}'
	[ "$status" -eq 0 ]
	[ "$stderr" = "ca-request: --continue: skipped the failed turn r9 (no response); continuing from the start" ]
	json_eq "$(jq -c '.params | {model, max_tokens, system, messages}' <<<"$output")" \
		'{"model":"claude-sonnet-4-6","max_tokens":500,"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"next"},{"type":"container_upload","file_id":"file_csv"}]}]}'
}

@test "--continue names a skipped turn safely" {
	run --separate-stderr ca-request -C next <<<'{"type":"request","custom_id":"r\u001b[2J","params":{"model":"claude-opus-5-5","messages":[]}}'
	[ "$status" -eq 0 ]
	[ "$stderr" = 'ca-request: --continue: skipped the failed turn r\x1b[2J (no response); continuing from the start' ]
}

@test "a closed standard input is no input, not an error" {
	run --separate-stderr bash -c 'exec 0<&-; ca-request hi'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(idcut <<<"$output" | jq -r .custom_id)" = r1 ]
}

@test "--continue passes on what follows the last turn, in order" {
	run --separate-stderr ca-request -C next < <(echo '{"type":"old-note"}'; transcript; echo '{"type":"note"}'; echo "$FILE_PNG"; echo '{"type":"note2"}')
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "note file note2 request " ]
	[ "$(tail -1 <<<"$output" | jq -r '.params.messages[-1].content[1].file_id')" = file_png ]
}

UPLOAD_ERR='{"type":"error","path":"nosuch.csv","status":null,"request_id":null,"error":{"type":"file_error","message":"No such file or directory"}}'
EXEC_ERR='{"type":"error","custom_id":"r1","part":1,"status":529,"request_id":"req_1","attempts":3,"error":{"type":"overloaded_error","message":"Overloaded"}}'

@test "an error record in the input: no request, the error passed on, exit by its kind" {
	run --separate-stderr ca-request plot <<<"$FILE_CSV
$UPLOAD_ERR"
	[ "$status" -eq 1 ]
	[ "$output" = "$FILE_CSV
$UPLOAD_ERR" ]
	[ "$stderr" = "ca-request: <stdin>:2: an error record came in (nosuch.csv: No such file or directory); no request built (-k builds one anyway)" ]
	# A temporary error upstream: 75, so that a retry later may do.
	run --separate-stderr ca-request plot <<<"$EXEC_ERR"
	[ "$status" -eq 75 ]
	[ "$output" = "$EXEC_ERR" ]
	[ "$stderr" = "ca-request: <stdin>:1: an error record came in (r1: Overloaded); no request built (-k builds one anyway)" ]
}

@test "-k builds the request all the same, and still exits by the rule" {
	run --separate-stderr ca-request -k plot <<<"$FILE_CSV
$UPLOAD_ERR"
	[ "$status" -eq 1 ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "file error request " ]
	[ "$(tail -1 <<<"$output" | jq -c '[.params.messages[0].content[].file_id]')" = '[null,"file_csv"]' ]
	[ "$stderr" = "ca-request: <stdin>:2: an error record came in (nosuch.csv: No such file or directory); building the request anyway" ]
	run --separate-stderr ca-request --keep-going plot <<<"$EXEC_ERR"
	[ "$status" -eq 75 ]
	[ "$(tail -1 <<<"$output" | jq -r .type)" = request ]
}

@test "--continue: an earlier turn's error is history; a new upload error is not" {
	# A failed turn, then a good one: the transcript goes on.
	run --separate-stderr ca-request -C 'and now?' < <(echo "$EXEC_ERR"; transcript)
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r .type <<<"$output")" = request ]
	# An upload that failed after the last turn: nothing is built.
	run --separate-stderr ca-request -C 'and now?' < <(transcript; echo "$UPLOAD_ERR")
	[ "$status" -eq 1 ]
	[ "$output" = "$UPLOAD_ERR" ]
	[[ "$stderr" == *"an error record came in (nosuch.csv: No such file or directory); no request built"* ]]
	# An upload error before the last turn is history too.
	run --separate-stderr ca-request -C 'and now?' < <(echo "$UPLOAD_ERR"; transcript)
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output")" = request ]
}

@test "--id takes up to 64 of the characters the Batches API takes" {
	long=$(printf 'a%.0s' $(seq 65))
	run --separate-stderr ca-request -n -i "${long%a}" hi
	[ "$status" -eq 0 ]
	run --separate-stderr ca-request -n --id A_z-09 hi
	[ "$(jq -r .custom_id <<<"$output")" = A_z-09 ]
}

@test "generated ids differ between invocations and match the Batches pattern" {
	for i in 1 2 3 4 5; do ca-request -n "q$i"; done >reqs
	[ "$(jq -r .custom_id reqs | sort -u | wc -l)" -eq 5 ]
	[ "$(jq -r .custom_id reqs | grep -cE '^[a-zA-Z0-9_-]{1,64}$')" -eq 5 ]
}
