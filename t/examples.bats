#!/usr/bin/env bats
# Every documented example runs, against the emulator, so that none can
# drift from what the tools do.
#
# The examples (t/examples.py extracts them): in README.md, the indented
# code blocks; in a man page, the .Dl lines and .Bd -literal blocks of
# EXAMPLES.  A block whose first line starts with "$ " is a session: each
# command must succeed and print what the lines below it show ("..."
# stands for any lines; container ids, times and the unique tail of a
# custom_id may differ).  Any other block is a script that must exit 0,
# run with bash -o pipefail.  Each document's examples run in order in
# one scratch directory that holds the files they name (sales.csv,
# chart.md, requests.ndjson, session.ndjson, ...).
#
# The marker: an example that cannot run here is listed in MARKS below
# as "DOC :: the start of its first line :: why", where why starts with
# tty (needs a person at a terminal), key (needs a real key or the real
# API), text (not a command), make (a Makefile: t/make.bats runs it),
# self (the source tree's own commands) or broken (wrong as written: the
# page must be fixed).  A mark that matches no example is an error too.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	emu_start
}

teardown_file() {
	emu_stop
}

marks() {
	cat <<-'EOT'
	README.md :: make demo :: self: installs, builds and runs the demo; the bare-Debian check and CI run it
	README.md :: make check :: self: runs this very test
	README.md :: make && sudo make install :: self: installs into the system; t/deb.bats checks what make install installs
	README.md :: make deb :: self: builds and installs the Debian package; t/deb.bats builds it and runs its tools
	README.md :: {"type":"file" :: text: the record protocol
	README.md :: $ ca-chat -d out sales.csv :: tty: a person typing at ca-chat
	README.md :: out/report.html: :: make: t/make.bats runs this Makefile
	README.md :: cmd/ :: text: the source layout
	README.md :: . completion/ca.bash :: self: the source tree's generated completion; t/completion.bats tests it
	ca.7 :: out/report.html: :: make: t/make.bats runs this Makefile
	ca-fetch.1 :: ca-fetch -o - --id file_011C :: key: a file id of a real workspace
	ca-fetch.1 :: out/report.pdf: :: make: a Makefile fragment with no prompt
	ca-files.1 :: 0 3 * * * :: text: a crontab line
	ca-batch.1 :: */10 * * * * :: text: a crontab line
	EOT
}

# The files the examples name, in the current directory.
scratch() {
	cp "$CA_ROOT"/demo/sales.csv "$CA_ROOT"/demo/targets.csv "$CA_ROOT"/demo/prompt.md .
	cp "$CA_ROOT"/demo/sales-db.json "$CA_ROOT"/demo/sales-db.sh "$CA_ROOT"/demo/sales-db.md .
	cp prompt.md chart.md
	cp sales.csv data.csv
	mkdir -p data
	cp sales.csv data/a.csv
	cp targets.csv data/b.csv
	echo 'GET / 200' >app.log
	printf '%%PDF-1.4\n%%%%EOF\n' >report.pdf
	printf '%s\n' 'what is 2**10?' 'what is 3**10?' >qs.txt
	{ ca-request -n -i q1 'one'; ca-request -n -i q2 'two'; } >requests.ndjson
	cp requests.ndjson req.ndjson
	ca-request -n 'hello' | ca-exec >session.ndjson
	printf '%s\n' '{"type":"object","properties":{"name":{"type":"string"},' \
		'"email":{"type":"string"}},"required":["name","email"]}' >person.json
	export DOCS_TOKEN=docs-token-not-real
	ca-request -n -i s1 'hello' >state.ndjson
	printf '%s\n' 'what is 2**10?' 'what is 3**10?' >prompts.txt
	cp prompt.md report.md
	mkdir -p demo && cp -r "$CA_ROOT"/demo/skills demo/
}

run_examples() {
	marks >marks.txt
	scratch
	run python3 "$CA_ROOT/t/examples.py" run marks.txt "$@"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "examples: README.md" {
	run_examples "$CA_ROOT/README.md"
	# The extractor found them: a silent nothing would pass.
	[[ "${lines[-1]}" =~ ^[12][0-9]\ run, ]]
}

@test "examples: the man pages" {
	run_examples "$CA_ROOT"/man/*.1 "$CA_ROOT"/man/ca.7
	[[ "${lines[-1]}" =~ ^[2-9][0-9]\ run, ]]
}

@test "examples: a broken example, or output that drifted, fails the run" {
	marks >marks.txt
	cat >doc.md <<-'EOT'
	A script that fails:

	    true | false | true

	A session whose output drifted:

	    $ echo one; echo two; echo three
	    one
	    ...
	    four

	EOT
	run python3 "$CA_ROOT/t/examples.py" run marks.txt doc.md
	[ "$status" -eq 1 ]
	[[ "$output" == *"FAIL doc.md:3: true | false | true"* ]]
	[[ "$output" == *"FAIL doc.md:7: \$ echo one; echo two; echo three"* ]]
	[ "${lines[-1]}" = "2 run, 0 not run" ]
	# And a session that matches passes, "..." and all.
	printf '    $ echo one; echo two; echo three\n    one\n    ...\n    three\n' >ok.md
	run python3 "$CA_ROOT/t/examples.py" run marks.txt ok.md
	[ "$status" -eq 0 ]
}
