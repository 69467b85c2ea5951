#!/usr/bin/env bats
# The Debian package: one version everywhere; then one build
# (tools/deb.sh, what make deb runs: dpkg-buildpackage in a scratch copy
# of the tree) whose .deb must carry what make install installs, run the
# pipeline from its own files, install with dpkg, and pass lintian.
# Skipped, with the reason, where dpkg-buildpackage cannot run.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	local d="$BATS_FILE_TMPDIR"

	emu_start
	if ! command -v dpkg-buildpackage >/dev/null 2>&1 ||
		! command -v dh >/dev/null 2>&1; then
		echo "dpkg-buildpackage or debhelper is not installed (make deb installs them)" >"$d/skip"
		return 0
	fi
	if ! (cd "$CA_ROOT" && dpkg-checkbuilddeps) >"$d/deps.err" 2>&1; then
		echo "build dependencies are missing: $(tail -n 1 "$d/deps.err")" >"$d/skip"
		return 0
	fi
	git -C "$CA_ROOT" status --porcelain >"$d/status.before" 2>&1 || true
	sh "$CA_ROOT/tools/deb.sh" "$d/debs" >"$d/build.log" 2>&1
	echo $? >"$d/build.rc"
	git -C "$CA_ROOT" status --porcelain >"$d/status.after" 2>&1 || true
	DEB="$d/debs/ca_$(cat "$CA_ROOT/VERSION")_$(dpkg --print-architecture).deb"
	[ ! -f "$DEB" ] || dpkg-deb -x "$DEB" "$d/root"
	echo "export DEB=\"$DEB\"" >>"$d/emu.env"
}

teardown_file() { emu_stop; }

# Skip without dpkg-buildpackage; fail, showing the log, if the build
# failed.
need_deb() {
	[ ! -f "$BATS_FILE_TMPDIR/skip" ] || skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	if [ "$(cat "$BATS_FILE_TMPDIR/build.rc")" -ne 0 ] || [ ! -f "$DEB" ]; then
		tail -n 40 "$BATS_FILE_TMPDIR/build.log" >&2
		return 1
	fi
}

# The version of debian/changelog's first entry.
changelog_version() {
	sed -n '1s/^ca (\([^)]*\)).*/\1/p' "$CA_ROOT/debian/changelog"
}

@test "deb: VERSION, debian/changelog and every tool's --version say the same" {
	v=$(cat "$CA_ROOT/VERSION")
	[[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ "$(changelog_version)" = "$v" ]
	for t in "${CA_TOOLS[@]}" ca-chat; do
		run -0 "$t" --version
		[[ "$output" == "$t $v"* ]]
	done
}

@test "deb: dpkg-buildpackage builds ca_VERSION_ARCH.deb, and the work tree is untouched" {
	need_deb
	cmp "$BATS_FILE_TMPDIR/status.before" "$BATS_FILE_TMPDIR/status.after"
	run -0 dpkg-deb -f "$DEB" Package Version Architecture Depends Recommends
	[[ "$output" == *"Package: ca"* ]]
	[[ "$output" == *"Version: $(cat "$CA_ROOT/VERSION")"* ]]
	[[ "$output" == *"Architecture: $(dpkg --print-architecture)"* ]]
	# ${shlibs:Depends}: the libraries the tools link.
	[[ "$output" == *"libcurl4"* ]]
	[[ "$output" == *"libcjson1"* ]]
	[[ "$output" == *"Recommends: rlwrap"* ]]
}

@test "deb: the package holds every tool, page and completion, and all that make install installs" {
	need_deb
	run -0 dpkg-deb -c "$DEB"
	list=$(awk '{ print $6 }' <<<"$output")
	has() { grep -qx -F "./$1" <<<"$list" || { echo "not in the package: $1" >&2; return 1; }; }
	for t in "${CA_TOOLS[@]}" ca-chat; do
		has "usr/bin/$t"
		has "usr/share/man/man1/$t.1.gz"
		has "usr/share/bash-completion/completions/$t"
	done
	has usr/share/man/man7/ca.7.gz
	has usr/share/zsh/vendor-completions/_ca
	has usr/share/doc/ca/copyright
	has usr/share/doc/ca/README.md.gz
	# Whatever make install puts under /usr (a new script too) is there.
	make -C "$CA_ROOT" -s install DESTDIR="$BATS_TEST_TMPDIR/inst" PREFIX=/usr \
		ZSHCOMPDIR=/usr/share/zsh/vendor-completions >/dev/null
	n=0
	while read -r f; do
		f=${f#"$BATS_TEST_TMPDIR/inst/"}
		case $f in usr/share/man/*) f=$f.gz ;; esac
		has "$f"
		n=$((n + 1))
	done < <(find "$BATS_TEST_TMPDIR/inst" -type f)
	[ "$n" -ge $((3 * (${#CA_TOOLS[@]} + 1) + 2)) ]
}

@test "deb: the copyright file is DEP-5, under the ISC licence of LICENSE" {
	need_deb
	c="$BATS_FILE_TMPDIR/root/usr/share/doc/ca/copyright"
	[ "$(head -n 1 "$c")" = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" ]
	grep -qx 'Copyright: 2026 the ca authors' "$c"
	grep -qx 'License: ISC' "$c"
	grep -qx 'Copyright (c) 2026 the ca authors' "$CA_ROOT/LICENSE"
	# The licence text, paragraph for paragraph, is LICENSE's.
	tac "$c" | sed '/^License: ISC$/q' | tac | sed '1d; s/^ //; s/^\.$//' >dep5.txt
	sed -n '/^Permission/,$p' "$CA_ROOT/LICENSE" >license.txt
	[ -s license.txt ]
	diff license.txt dep5.txt
}

@test "deb: the packaged tools run the whole pipeline against the emulator" {
	need_deb
	root="$BATS_FILE_TMPDIR/root"
	# The packaged tools, not make valgrind's wrappers of the tree's.
	unset -f "${CA_TOOLS[@]}"
	PATH="$root/usr/bin:$PATH"
	[ "$(command -v ca-exec)" = "$root/usr/bin/ca-exec" ]
	[ "$(command -v ca-chat)" = "$root/usr/bin/ca-chat" ]
	run -0 ca-request --version
	[[ "$output" =~ ^ca-request\ $(cat "$CA_ROOT/VERSION")\ \(cJSON\ [0-9.]+\)$ ]]
	printf 'month,revenue\n2026-01,10\n2026-02,30\n' >sales.csv
	cat >prompt.md <<-'EOT'
	Sum the revenue.
	```python
	import csv, os
	s = sum(int(r["revenue"]) for r in csv.DictReader(open("sales.csv")))
	open(os.path.join(os.environ["OUTPUT_DIR"], "total.txt"), "w").write(f"{s}\n")
	```
	EOT
	run --separate-stderr bash -c 'ca-upload sales.csv | ca-request -f prompt.md | ca-exec | ca-fetch -d out | tee session.ndjson | ca-render --color=never'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(cat out/total.txt)" = 40 ]
	[ "$(jq -r .type session.ndjson | tr '\n' ' ')" = "file request response fetched " ]
	[[ "$output" == *"out/total.txt"* ]]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	# ca-chat, the script, drives the packaged tools too.
	printf 'hello there\n' | ca-chat -t chat.ndjson -d files >chat.out
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
	[ "$(emu_log /v1/messages | tail -n 1 | jq -r '.body.messages[-1].content | if type == "string" then . else map(.text // empty) | join("") end')" = "hello there" ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' chat.ndjson)" = end_turn ]
	[ -s chat.out ]
}

@test "deb: the packaged tools carry dpkg-buildflags' hardening (PIE, RELRO, BIND_NOW, FORTIFY)" {
	need_deb
	for t in ca-exec ca-render; do
		f="$BATS_FILE_TMPDIR/root/usr/bin/$t"
		run -0 readelf -hW "$f"
		[[ "$output" == *"DYN (Position-Independent Executable"* ]]
		run -0 readelf -lW "$f"
		[[ "$output" == *GNU_RELRO* ]]
		run -0 readelf -dW "$f"
		[[ "$output" == *BIND_NOW* ]]
		run -0 readelf --dyn-syms -W "$f"
		[[ "$output" == *__stack_chk_fail* ]]
		[[ "$output" =~ __[a-z]*printf_chk ]]
	done
}

@test "deb: dpkg installs it into a scratch root, lists its files and removes them" {
	need_deb
	r="$BATS_TEST_TMPDIR/sysroot"
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
	: >"$r/var/lib/dpkg/status"
	# --force-all: the libraries it depends on are not in this root.
	run -0 dpkg --root="$r" --force-all -i "$DEB"
	run -0 dpkg --root="$r" -s ca
	[[ "$output" == *"Status: install ok installed"* ]]
	run -0 dpkg --root="$r" -L ca
	for t in "${CA_TOOLS[@]}" ca-chat; do
		grep -qx "/usr/bin/$t" <<<"$output"
		[ -x "$r/usr/bin/$t" ]
	done
	grep -qx /usr/share/man/man7/ca.7.gz <<<"$output"
	run -0 dpkg --root="$r" --force-all --purge ca
	[ ! -e "$r/usr/bin/ca-exec" ]
	[ ! -e "$r/usr/share/man/man7/ca.7.gz" ]
}

@test "deb: lintian reports no error and no warning" {
	need_deb
	command -v lintian >/dev/null 2>&1 || skip "lintian is not installed (make deb installs it)"
	run --separate-stderr lintian --fail-on error,warning "${DEB%.deb}.changes"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "deb: blhc finds every compile and link of the build hardened" {
	need_deb
	command -v blhc >/dev/null 2>&1 || skip "blhc is not installed"
	run blhc --debian --all "$BATS_FILE_TMPDIR/build.log"
	echo "$output"
	[ "$status" -eq 0 ]
}
