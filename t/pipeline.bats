#!/usr/bin/env bats
# Whole pipelines, tool to tool, against the emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

setup() {
	ca_test_setup
	printf 'month,revenue\n2026-01,10\n2026-02,30\n2026-03,20\n' >sales.csv
	printf 'month,target\n2026-01,15\n2026-02,15\n2026-03,15\n' >targets.csv
	cat >prompt.md <<-'EOT'
	Compare sales with targets.
	```python
	import csv, os
	out = os.environ["OUTPUT_DIR"]
	s = {r["month"]: int(r["revenue"]) for r in csv.DictReader(open("sales.csv"))}
	t = {r["month"]: int(r["target"]) for r in csv.DictReader(open("targets.csv"))}
	with open(os.path.join(out, "diff.csv"), "w") as f:
	    for m in sorted(s):
	        f.write(f"{m},{s[m] - t[m]}\n")
	with open(os.path.join(out, "total.txt"), "w") as f:
	    f.write(f"{sum(s.values())}\n")
	print("months:", len(s))
	```
	EOT
}

@test "upload two files, run code, fetch two generated files, render" {
	run --separate-stderr bash -c 'ca-upload sales.csv targets.csv | ca-request -f prompt.md | ca-exec | ca-fetch -d out | tee session.ndjson | ca-render --color=never'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(cat out/diff.csv)" = $'2026-01,-5\n2026-02,15\n2026-03,5' ]
	[ "$(cat out/total.txt)" = 60 ]
	[ "$(jq -r .type session.ndjson | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = "fetched=2 file=2 request=1 response=1 " ]
	[ "$(jq -r 'select(.type == "fetched") | .path' session.ndjson | sort | tr '\n' ' ')" = "out/diff.csv out/total.txt " ]
	[ "$(jq -r 'select(.type == "fetched" and .path == "out/total.txt") | .sha256' session.ndjson)" = "$(sha256sum out/total.txt | cut -d' ' -f1)" ]
	# Both uploads reached the container: the request attached them.
	[ "$(emu_log /v1/messages | jq -r '[.body.messages[0].content[] | select(.type == "container_upload")] | length')" -eq 2 ]
	[[ "$output" == *"months: 3"* ]]
	[[ "$output" == *"out/diff.csv"* ]]
}

@test "the same pipeline streaming gives the same files and response" {
	run --separate-stderr bash -c 'ca-upload sales.csv targets.csv | ca-request -f prompt.md | ca-exec --stream | ca-fetch -d out | tee session.ndjson | ca-render --color=never'
	[ "$status" -eq 0 ]
	[ "$(cat out/total.txt)" = 60 ]
	[ "$(jq -r 'select(.type == "event") | .event.type' session.ndjson | tail -1)" = message_stop ]
	[ "$(jq -s '[.[] | select(.type == "fetched")] | length' session.ndjson)" -eq 2 ]
}

@test "an unknown record passes through every tool byte for byte" {
	odd='{"type":"x-note",   "text":"keep me", "n":1.50}'
	run --separate-stderr bash -c "{ ca-upload sales.csv; echo '$odd'; } | ca-request -f prompt.md | ca-exec | ca-fetch -d out"
	[ "$status" -eq 0 ]
	[ "$(grep -c -F -x "$odd" <<<"$output")" -eq 1 ]
	# In order: after the file record, before the request.
	[ "$(jq -r .type <<<"$output" | head -3 | tr '\n' ' ')" = "file x-note request " ]
	run --separate-stderr ca-render --color=never <<<"$odd"
	[ "$status" -eq 0 ]
	[[ "$output" == *"x-note"* ]]
}

@test "ca-chat: two turns from a pipe share the container; resume later" {
	printf '%s\n' 'hello there' 'and again' | ca-chat -t chat.ndjson -d files sales.csv >chat.out 2>chat.err
	# Generated ids are rN-<unique>: compare their rN.
	ids() { jq -c 'if (.custom_id | type) == "string" then .custom_id |= sub("-.*"; "") else . end' chat.ndjson >chat.n; }
	ids
	[ "$(jq -r 'select(.type == "request") | .custom_id' chat.n | tr '\n' ' ')" = "r1 r2 " ]
	# The second turn ran in the first turn's container, with the history.
	c1=$(jq -r 'select(.type == "response" and .custom_id == "r1") | .message.container.id' chat.n)
	[[ "$c1" == container_* ]]
	[ "$(jq -r 'select(.type == "request" and .custom_id == "r2") | .params.container' chat.n)" = "$c1" ]
	[ "$(jq -r 'select(.type == "request" and .custom_id == "r2") | .params.messages | length' chat.n)" -eq 3 ]
	# The uploaded file went with the first turn only.
	[ "$(jq -r 'select(.type == "request") | [.params.messages[-1].content[] | select(.type == "container_upload")] | length' chat.n | tr '\n' ' ')" = "1 0 " ]
	[[ "$(cat chat.out)" == *'No code to run in "hello there"'* ]]
	[[ "$(cat chat.out)" == *'No code to run in "and again"'* ]]
	# Resume: a third turn continues the same transcript.
	echo 'third' | ca-chat -t chat.ndjson -d files >/dev/null 2>&1
	ids
	[ "$(jq -r 'select(.type == "request") | .custom_id' chat.n | tr '\n' ' ')" = "r1 r2 r3 " ]
	[ "$(jq -r 'select(.type == "request" and .custom_id == "r3") | .params.messages | length' chat.n)" -eq 5 ]
}

@test "a second turn (--continue) sees the files of the first" {
	bash -c 'ca-upload sales.csv targets.csv | ca-request -f prompt.md | ca-exec | ca-fetch -d out' >t1.ndjson
	cat >p2.md <<-'EOT'
	What was the total?
	```python
	print("total was", open("outputs/total.txt").read().strip())
	print("sales still here:", open("sales.csv").readline().strip())
	```
	EOT
	run --separate-stderr bash -c 'ca-request -C -f p2.md <t1.ndjson | ca-exec'
	[ "$status" -eq 0 ]
	resp=$(jq -c 'select(.type == "response")' <<<"$output")
	[ "$(jq -r .message.container.id <<<"$resp")" = "$(jq -r 'select(.type == "response") | .message.container.id' t1.ndjson)" ]
	[[ "$(jq -r '.message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' <<<"$resp")" == $'total was 60\nsales still here: month,revenue' ]]
}

@test "cleanup: the files of a session are deleted with ca-files -d" {
	bash -c 'ca-upload sales.csv targets.csv | ca-request -f prompt.md | ca-exec | ca-fetch -d out' >session.ndjson
	run --separate-stderr bash -c 'ca-files -d <session.ndjson'
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.type == "deleted")] | length' <<<"$output")" -eq 4 ]
	[ "$(emu_log | jq -r 'select(.method == "DELETE") | .path' | wc -l)" -eq 4 ]
}

@test "make demo runs the whole pipeline and leaves a chart, a summary and a report" {
	run --separate-stderr env CA_DEMO_OUT="$BATS_TEST_TMPDIR/demo" sh "$CA_ROOT/tools/demo.sh"
	[ "$status" -eq 0 ]
	[ "$(file -b --mime-type demo/monthly_revenue.png)" = image/png ]
	[ "$(head -1 demo/summary.csv)" = region,revenue,target,attained ]
	[ "$(wc -l <demo/summary.csv)" -eq 5 ]
	grep -q 'data:image/png;base64,' demo/report.html
	[[ "$output" == *"best month: 2026-11"* ]]
}
