#!/usr/bin/env bats
# The contract every tool keeps (ca(7)): the last command of a pipeline
# tells the truth, failures travel as records, nothing is billed from
# incomplete input, deletes wait for the pipeline, ids are unique.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

setup() {
	ca_test_setup
	printf 'month,revenue\n2026-01,10\n2026-02,30\n' >sales.csv
}

@test "an upload that failed stops the pipeline: no request is sent, the end exits 1" {
	run --separate-stderr bash -c "ca-upload nosuch.csv | ca-request 'plot' | ca-exec | ca-render --color=never"
	[ "$status" -eq 1 ]
	# Nothing was billed: the API never saw a message request.
	[ -z "$(emu_log /v1/messages)" ]
	[[ "$output" == *"not uploaded nosuch.csv: error file_error: No such file or directory"* ]]
	[ "$stderr" = "ca-upload: nosuch.csv: No such file or directory
ca-request: <stdin>:1: an error record came in (nosuch.csv: No such file or directory); no request built (-k builds one anyway)" ]
	# Each tool on the way says so by its own status too.
	run --separate-stderr bash -c "ca-upload nosuch.csv sales.csv | ca-request 'plot' | ca-exec | ca-fetch -d out"
	[ "$status" -eq 1 ]
	[ -z "$(emu_log /v1/messages)" ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "error file " ]
}

@test "three 529s: the Makefile recipe's last command exits 75" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":3}]'
	echo 'plot it' >chart.md
	run --separate-stderr bash -c 'ca-upload sales.csv | ca-request -f chart.md | ca-exec | ca-fetch -d out >session.ndjson'
	[ "$status" -eq 75 ]
	[ "$(emu_log /v1/messages | jq -r .status | tr '\n' ' ')" = "529 529 529 " ]
	[ "$(jq -r 'select(.type == "error") | .error.type' session.ndjson)" = overloaded_error ]
	# ca-render, at the end instead, says the same.
	run --separate-stderr ca-render --color=never <session.ndjson
	[ "$status" -eq 75 ]
}

@test "ca-files -d deletes only after its input has ended" {
	ca-upload -n sales.csv >up.ndjson
	id=$(jq -r .file.id up.ndjson)
	# A slow upstream that still needs the file after its record went
	# by: it lists the workspace just before it ends.
	run --separate-stderr bash -c '{ cat up.ndjson; sleep 1; ca-files >listing; echo "{\"type\":\"note\"}"; } | ca-files -d'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# The file was still there when upstream looked, and the DELETE
	# came after that listing, with the records passed on first.
	grep -qF "\"id\":\"$id\"" listing
	[ "$(emu_log | jq -r 'select(.path | startswith("/v1/files")) | .method + " " + .path' | tr '\n' '|')" = "POST /v1/files|GET /v1/files|DELETE /v1/files/$id|" ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "file note deleted " ]
}

@test "the ca-files(1) clean-up example: the request is sent before the upload is deleted" {
	run --separate-stderr bash -c "ca-upload -n sales.csv | ca-request 'count the rows' | ca-exec | ca-fetch -d out | ca-files -d"
	[ "$status" -eq 0 ]
	[ "$(emu_log | jq -r '.method + " " + (.path | sub("file_.*"; "ID")) + " " + (.status | tostring)' | tr '\n' '|')" = "POST /v1/files 200|POST /v1/messages 200|DELETE /v1/files/ID 200|" ]
	[ "$(jq -r .type <<<"$output" | tail -1)" = deleted ]
}

@test "a while-read loop with ca-request -n sends every question, each with its own id" {
	printf '%s\n' 'first?' 'second?' 'third?' >qs.txt
	run --separate-stderr bash -c 'while read -r q; do ca-request -n "$q"; done <qs.txt | ca-exec -j 2'
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | jq -r '.body.messages[0].content[0].text' | sort | tr '\n' ' ')" = "first? second? third? " ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

@test "ids made by separate invocations are unique and fit the Batches API" {
	ca-request -n one >a.ndjson
	ca-request -n two >b.ndjson
	ca-request -n three </dev/null >c.ndjson
	cat a.ndjson b.ndjson c.ndjson >all.ndjson
	[ "$(jq -r .custom_id all.ndjson | sort -u | wc -l)" -eq 3 ]
	[ "$(jq -r .custom_id all.ndjson | grep -cE '^[a-zA-Z0-9_-]{1,64}$')" -eq 3 ]
	# The joined stream runs as one: three requests, three responses.
	run --separate-stderr ca-exec <all.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

@test "every tool prints its version and its libraries' with --version" {
	local versions="" v
	[ "${#CA_TOOLS[@]}" -ge 7 ]
	for t in "${CA_TOOLS[@]}"; do
		run --separate-stderr "$t" --version
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		case $t in
		ca-request|ca-render)	# no HTTP: libcurl is not loaded
			[[ "$output" =~ ^$t\ [0-9]+\.[0-9]+\.[0-9]+\ \(cJSON\ [0-9][0-9.]*\)$ ]] ;;
		*)
			[[ "$output" =~ ^$t\ [0-9]+\.[0-9]+\.[0-9]+\ \(libcurl\ [0-9][0-9.]*,\ cJSON\ [0-9][0-9.]*\)$ ]] ;;
		esac
		v=${output#"$t "}
		versions="$versions${v%% *}"$'\n'
	done
	# The same version everywhere.
	[ "$(sort -u <<<"${versions%$'\n'}" | wc -l)" -eq 1 ]
}

@test "CA_API_VERSION sets anthropic-version for every tool that calls the API" {
	printf 'a\n' >a.txt
	export CA_API_VERSION=2023-06-01
	ca-upload a.txt >up
	ca-files >/dev/null
	ca-request -n hi | ca-exec >/dev/null
	[ "$(emu_log | jq -r '.headers["anthropic-version"]' | sort -u)" = 2023-06-01 ]
	[ "$(emu_log | wc -l)" -ge 3 ]
}

# The tools that may follow a failure, as t/contract.table names them.
declare -gA TAIL=(
	[request]="ca-request -f chart.md"
	[exec]="ca-exec"
	[fetch]="ca-fetch -d fetched"
	[files]="ca-files -d"
	[render]="ca-render --color=never"
)

# The places the table's disk rows write to: a name taken by other
# bytes, a full disk, a read-only one (these two need mount(8)).
contract_dirs() {
	mkdir taken full ro
	printf 'other bytes\n' >taken/chart.bin
	mount -t tmpfs -o size=64k tmpfs full 2>/dev/null || return 1
	mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null || return 1
}

contract_undo() {
	local m
	for m in "$BATS_TEST_TMPDIR/full" "$BATS_TEST_TMPDIR/ro"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	return 0
}

# One row of the table, with the first n tools of its "after" as the
# tail; reports what went wrong on stdout, nothing when all is well.
contract_row() {
	local name=$1 fault=$2 head=$3 after=$4 etype=$5 want=$6 n=$7
	local t last pipe=$3 i=0 got out
	for t in $after; do
		[ "$i" -lt "$n" ] || break
		pipe="$pipe | ${TAIL[$t]}"
		last=$t
		i=$((i + 1))
	done
	emu_reset
	[ "$fault" = - ] || emu_fault "$fault"
	rm -rf fetched
	out=$(bash -c "$pipe" 2>/dev/null)
	got=$?
	[ "$got" -eq "$want" ] ||
		echo "$name | $last: the last command exited $got, not $want"
	if [ "$last" = render ]; then
		grep -qE "error( [0-9]+)? $etype: " <<<"$out" ||
			echo "$name | $last: no \"error $etype\" shown"
		grep -qE ", [1-9][0-9]* errors?$" <<<"$out" ||
			echo "$name | $last: no error counted in a summary"
	else
		jq -r 'select(.type == "error") | .error.type' <<<"$out" |
			grep -qx "$etype" ||
			echo "$name | $last: no $etype error record arrived"
	fi
	# Nothing is billed from input that holds an error.
	if [[ " $after " == *" exec "* ]] && [ -n "$(emu_log /v1/messages)" ]; then
		echo "$name | $last: a message request was sent"
	fi
}

@test "every failure of every tool reaches the end of the pipe (t/contract.table)" {
	local name fault head after etype want n k bad="" skipped="" runs=0
	cat >chart.md <<-'EOT'
	Write a file.
	```python
	import os
	open(os.path.join(os.environ["OUTPUT_DIR"], "chart.bin"), "w").write("x" * 200000)
	```
	EOT
	contract_dirs || skipped="cannot mount a small tmpfs here"
	while IFS=$'\t' read -r name fault head after etype want; do
		case $name in ''|'#'*) continue ;; esac
		if [ -n "$skipped" ] && [[ "$name" == fetch-full || "$name" == fetch-ro ]]; then
			continue
		fi
		n=$(wc -w <<<"$after")
		for ((k = 1; k <= n; k++)); do
			bad+=$(contract_row "$name" "$fault" "$head" "$after" "$etype" "$want" "$k")
			bad+=${bad:+$'\n'}
			runs=$((runs + 1))
		done
	done <"$CA_ROOT/t/contract.table"
	contract_undo
	bad=$(sed '/^$/d' <<<"$bad")
	[ -z "$bad" ] || { echo "$bad"; false; }
	# Every row ran, with every tail.
	[ "$runs" -eq "$([ -n "$skipped" ] && echo 55 || echo 59)" ]
	[ -z "$skipped" ] || skip "$skipped: the full and read-only disk rows did not run"
}

@test "every tool whose standard output cannot be written exits 74" {
	echo hi >f.txt
	for t in ca-exec ca-fetch ca-render ca-batch; do
		echo '{"type":"note","n":1}' | "$t" >/dev/full 2>err && rc=0 || rc=$?
		[ "$rc" -eq 74 ]
		[ "$(cat err)" = "$t: write error on standard output: No space left on device" ]
	done
	ca-request -n hello >/dev/full && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
	ca-upload f.txt >/dev/full && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
	ca-files >/dev/full && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
}
