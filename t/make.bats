#!/usr/bin/env bats
# make(1) as a user: the Makefile that README.md and ca(7) document, run
# exactly as written against the emulator; and what make demo and make
# check install on a bare machine.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	emu_start
}

teardown_file() {
	emu_stop
}

# The documented Makefile, its data, and a prompt whose code writes a
# chart that depends only on the data.
setup() {
	ca_test_setup
	python3 "$CA_ROOT/t/examples.py" block "$CA_ROOT/README.md" '^out/session\.ndjson: ' >Makefile
	cp "$CA_ROOT/demo/sales.csv" .
	cat >chart.md <<-'EOT'
	Count the rows.
	```python
	import os
	rows = len(open("sales.csv").read().splitlines())
	open(os.path.join(os.environ["OUTPUT_DIR"], "chart.txt"), "w").write("%d rows\n" % rows)
	```
	EOT
}

messages_sent() {
	emu_log /v1/messages | wc -l
}

# Every relative link of the report resolves from the report's directory.
links_resolve() {
	local h n=0
	while read -r h; do
		n=$((n + 1))
		[ -e "out/$h" ] || { echo "broken link: $h" >&2; return 1; }
	done < <(grep -o ' href="[^"#:]*"' out/report.html | sed 's/^ href="//; s/"$//')
	[ "$n" -gt 0 ]
}

@test "make: the documented Makefile is the one in ca(7)" {
	python3 "$CA_ROOT/t/examples.py" block "$CA_ROOT/man/ca.7" '^out/session\.ndjson: ' >ca7.mk
	[ -s Makefile ]
	cmp Makefile ca7.mk
}

@test "make: the first run builds everything, the second has nothing to do" {
	run make
	[ "$status" -eq 0 ]
	[ "$(messages_sent)" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' out/session.ndjson)" = end_turn ]
	[ "$(cat out/chart.txt)" = "$(wc -l <sales.csv) rows" ]
	grep -q 'chart.txt' out/report.html
	links_resolve
	[ ! -e out/session.ndjson.tmp ]
	run make -q
	[ "$status" -eq 0 ]
	run make
	[ "$status" -eq 0 ]
	[ "$(messages_sent)" -eq 1 ]
}

@test "make: new data reruns the pipeline once; an unchanged chart keeps its mtime" {
	run make
	[ "$status" -eq 0 ]
	# Sources, then results, well in the past: no two times are equal.
	now=$(date +%s)
	touch -d "@$((now - 100))" sales.csv chart.md
	touch -d "@$((now - 50))" out/*
	touch sales.csv
	run make -q
	[ "$status" -eq 1 ]
	run make
	[ "$status" -eq 0 ]
	[ "$(messages_sent)" -eq 2 ]
	# The same data gave the same chart: ca-fetch left it alone.
	[ "$(stat -c %Y out/chart.txt)" -eq "$((now - 50))" ]
	[ "$(stat -c %Y out/session.ndjson)" -ge "$now" ]
	[ "$(stat -c %Y out/report.html)" -ge "$now" ]
	run make -q
	[ "$status" -eq 0 ]
	run make
	[ "$(messages_sent)" -eq 2 ]
}

@test "make: an overloaded API fails make and leaves no session behind" {
	emu_fault '[{"path":"/v1/messages","status":529,"times":-1}]'
	run make
	[ "$status" -ne 0 ]
	[ ! -e out/session.ndjson ]
	[ ! -e out/session.ndjson.tmp ]
	run make -q
	[ "$status" -ne 0 ]
}

@test "make: a prompt ca-request refuses fails make: no session, no temporary, nothing sent" {
	: >chart.md
	run make
	[ "$status" -ne 0 ]
	[[ "$output" == *"ca-request: no prompt: give it as operands or with -f"* ]]
	[ ! -e out/session.ndjson ]
	[ ! -e out/session.ndjson.tmp ]
	[ ! -e out/report.html ]
	[ "$(messages_sent)" -eq 0 ]
}

# tools/deps.sh on a machine that has nothing: which packages it asks for.
fake_machine() {
	mkdir -p bin
	printf '#!/bin/sh\necho 0\n' >bin/id
	# A compiler without the C library headers, as gcc without recommends.
	printf '#!/bin/sh\nexit %s\n' "${1:-1}" >bin/cc
	# pkg-config is there, the libraries it looks for are not.
	printf '#!/bin/sh\nexit 1\n' >bin/pkg-config
	printf '#!/bin/sh\necho "$*" >>"%s/apt.log"\n' "$PWD" >bin/apt-get
	chmod +x bin/*
}

@test "deps.sh build: the compiler with the C library headers, and only what build and demo need" {
	fake_machine
	PATH="$PWD/bin" run /bin/sh "$CA_ROOT/tools/deps.sh" build
	[ "$status" -eq 0 ]
	[ "$(tail -1 apt.log)" = "install -y -qq --no-install-recommends gcc libc6-dev make libcurl4-openssl-dev libcjson-dev libssl-dev zlib1g-dev python3 rlwrap" ]
}

@test "deps.sh test: adds the test tools; CA_NO_BROWSER leaves chromium out" {
	fake_machine 0
	PATH="$PWD/bin" CA_NO_BROWSER='' run /bin/sh "$CA_ROOT/tools/deps.sh" test
	[ "$status" -eq 0 ]
	[ "$(tail -1 apt.log)" = "install -y -qq --no-install-recommends make libcurl4-openssl-dev libcjson-dev libssl-dev zlib1g-dev python3 rlwrap bats jq curl file time iproute2 strace zsh mandoc sqlite3 chromium" ]
	PATH="$PWD/bin" CA_NO_BROWSER=1 run /bin/sh "$CA_ROOT/tools/deps.sh" test
	[ "$status" -eq 0 ]
	[[ "$(tail -1 apt.log)" == *" mandoc sqlite3" ]]
	PATH="$PWD/bin" run /bin/sh "$CA_ROOT/tools/deps.sh" bogus
	[ "$status" -eq 2 ]
}

# Every program the tests run by absolute path (/usr/bin/time, ...) comes
# from a package that deps.sh test asks for on a machine without it: the
# package that holds the path here, or the package of its name.  Programs
# of Debian's essential packages (coreutils' env) are on every machine.
@test "deps.sh test: a package for every /usr/bin and /usr/sbin path the tests run" {
	fake_machine 0
	PATH="$PWD/bin" CA_NO_BROWSER='' run /bin/sh "$CA_ROOT/tools/deps.sh" test
	[ "$status" -eq 0 ]
	asked=" $(tail -1 apt.log) "
	# Absolute: at the start of a word, not under some "$root".
	grep -ohE "(^|[[:space:]\"'=(|!])/usr/s?bin/[A-Za-z0-9._+-]+" \
	    "$CA_ROOT"/t/*.bats "$CA_ROOT"/t/*.bash "$CA_ROOT"/t/*.py |
	    sed 's|^[^/]*||' | sort -u >paths
	[ "$(wc -l <paths)" -ge 3 ]
	grep -qx /usr/bin/time paths
	missing=""
	while read -r path; do
		pkg=$(dpkg-query -S "$path" 2>/dev/null | grep -v '^diversion' |
		    sed -n '1s/[,:].*//p')
		if [ -n "$pkg" ]; then
			[ "$(dpkg-query -W -f '${Essential}' "$pkg")" != yes ] || continue
			[[ "$asked" != *" $pkg "* ]] || continue
		fi
		[[ "$asked" != *" ${path##*/} "* ]] || continue
		missing="$missing $path${pkg:+ ($pkg)}"
	done <paths
	[ -z "$missing" ] || { echo "deps.sh test installs nothing for:$missing"; false; }
}

@test "make demo and make check install for their own use" {
	run make --no-print-directory -n -C "$CA_ROOT" demo
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "sh tools/deps.sh build" ]]
	run make --no-print-directory -n -C "$CA_ROOT" check
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "sh tools/deps.sh test" ]]
}
