#!/usr/bin/env bats
# How the tools are built: what they link, and the SHA-256 they use.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# The shared libraries a tool loads, by name.
libs() { ldd "$CA_ROOT/$1" | awk '{ print $1 }'; }

@test "tools without HTTP load neither libcurl nor libcrypto" {
	for t in ca-request ca-render; do
		run -0 libs "$t"
		[[ "$output" == *libcjson* ]]
		[[ "$output" != *libcurl* ]]
		[[ "$output" != *libcrypto* ]]
	done
}

@test "tools that talk HTTP do load libcurl" {
	for t in ca-upload ca-exec ca-fetch ca-files; do
		run -0 libs "$t"
		[[ "$output" == *libcurl* ]]
	done
}

@test "tools that talk HTTP name libcrypto first: the linker's lookups find it sooner" {
	# The sanitizers' runtime comes first in a make asan build.
	for t in ca-upload ca-exec ca-fetch ca-files ca-batch; do
		run -0 readelf -d "$CA_ROOT/$t"
		first=$(awk '/\(NEEDED\)/ && !/lib(a|ub)san/ { print $NF; exit }' <<<"$output")
		[ "$first" = "[libcrypto.so.3]" ]
	done
}

# An OpenSSL configuration that fails whatever reads it: it activates a
# provider that does not exist, and config_diagnostics makes that fatal.
bad_openssl_conf() {
	cat >bad.cnf <<-'EOF'
	config_diagnostics = 1
	openssl_conf = init
	[init]
	providers = providers
	[providers]
	nosuch = nosuch
	[nosuch]
	activate = 1
	EOF
}

@test "over plain http the OpenSSL configuration is not read; over https it is" {
	bad_openssl_conf
	printf 'a,b\n1,2\n' >t.csv
	OPENSSL_CONF=$PWD/bad.cnf run --separate-stderr ca-upload t.csv
	[ "$status" -eq 0 ]
	[ "$(jq -r .sha256 <<<"$output")" = "$(sha256sum t.csv | cut -c1-64)" ]
	[ "$(emu_log /v1/files | jq -s length)" -eq 1 ]
	OPENSSL_CONF=$PWD/bad.cnf ANTHROPIC_BASE_URL=https://127.0.0.1:1 \
	    run --separate-stderr ca-upload t.csv
	[ "$status" -eq 1 ]
	[[ "$stderr" == *libcrypto* ]]
}

@test "the hand-written SHA-256 is gone: libcrypto does the hashing" {
	[ ! -e "$CA_ROOT/lib/ca_sha256.c" ]
	run -0 nm -u "$CA_ROOT/ca-upload"
	[[ "$output" == *EVP_DigestUpdate* ]]
}

# FIPS 180-2's examples, and the empty message.
@test "SHA-256 known answers, whatever the size of the pieces fed" {
	for c in 1 3 63 64 65 4096; do
		run -0 "$CA_ROOT/t/unit/sha256-test" -c "$c" < <(printf abc)
		[ "$output" = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ]
		run -0 "$CA_ROOT/t/unit/sha256-test" -c "$c" < <(printf 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')
		[ "$output" = 248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1 ]
	done
	run -0 "$CA_ROOT/t/unit/sha256-test" </dev/null
	[ "$output" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]
	run -0 "$CA_ROOT/t/unit/sha256-test" -c 7 -r 1000000 < <(printf a)
	[ "$output" = cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0 ]
}

# The C block under "## The skeleton" in HACKING.md.
skeleton() {
	awk '/^## The skeleton/ { s = 1 } s && /^```$/ { exit }
	    s && c { print } s && /^```c$/ { c = 1 }' "$CA_ROOT/HACKING.md"
}

@test "HACKING.md's skeleton compiles warning-clean, and the tool it makes keeps the rules" {
	skeleton >ca-skel.c
	grep -q 'ca_setprog(argv\[0\], usage)' ca-skel.c
	# The Makefile's own flags, -Werror included.
	flags=$(make -s -C "$CA_ROOT" CI=1 --no-print-directory \
	    --eval 'cflags: ; @echo $(CFLAGS)' cflags)
	libs=$(make -s -C "$CA_ROOT" --no-print-directory \
	    --eval 'libs: ; @echo $(LDFLAGS) $(CORE_LDLIBS)' libs)
	# shellcheck disable=SC2086
	run -0 cc $flags -I"$CA_ROOT/lib" -o ca-skel ca-skel.c \
	    "$CA_ROOT/lib/libca.a" $libs
	[ -z "$output" ]
	run --separate-stderr -0 ./ca-skel --help
	[[ "$output" == "usage: ca-skel [-vx]"*"--version"* ]]
	[ -z "$stderr" ]
	run -0 ./ca-skel --version
	[[ "$output" == "ca-skel "* ]]
	run --separate-stderr -2 ./ca-skel --bogus
	[ "${stderr_lines[0]}" = "ca-skel: unknown option --bogus" ]
	[ "${stderr_lines[1]}" = "usage: ca-skel [-vx]" ]
	is_refused ca-skel usage_error
	run --separate-stderr -2 ./ca-skel -q
	[ "${stderr_lines[0]}" = "ca-skel: unknown option -q" ]
	run --separate-stderr -2 ./ca-skel --example=1
	[ "${stderr_lines[0]}" = "ca-skel: --example takes no argument" ]
	run --separate-stderr -2 ./ca-skel extra
	[ "${stderr_lines[0]}" = "ca-skel: unexpected operand extra" ]
	# A bad operand or value is one line: the synopsis is for syntax.
	[ "${#stderr_lines[@]}" -eq 1 ]
	is_refused ca-skel usage_error
	run -0 ./ca-skel -vx <<<'{"type":"x"}'
	[ "$output" = '{"type":"x"}' ]
}

@test "the files of lib/ and of each split tool depend one way" {
	run -0 sh "$CA_ROOT/tools/layers.sh"
	[ -z "$output" ]
	# It does see a circle: two objects that call each other.
	mkdir circle
	printf 'void b(void);\nvoid a(void) { b(); }\n' >circle/a.c
	printf 'void a(void);\nvoid b(void) { a(); }\n' >circle/b.c
	cc -c -o circle/a.o circle/a.c
	cc -c -o circle/b.o circle/b.c
	run -1 sh "$CA_ROOT/tools/layers.sh" "$PWD/circle"
	[[ "$output" == *"files call each other in a circle"*"a.o"* ]]
}
