#!/usr/bin/env bats
# How the tools are built: what they link, and the SHA-256 they use.

load test_helper
bats_require_minimum_version 1.5.0

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
