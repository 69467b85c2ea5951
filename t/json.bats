#!/usr/bin/env bats
# ca_jcompact, ca_jparse and ca_jscan, driven through t/unit/json-test: the table
# of nasty cases lives in the driver, one TAP line per case.

load test_helper

bats_require_minimum_version 1.5.0

# The driver; under make valgrind (CA_VALGRIND set) a leak or memory
# error turns into exit status 99 and fails the test.
jt() {
	if [ -n "${CA_VALGRIND:-}" ]; then
		valgrind -q --leak-check=full --show-leak-kinds=definite \
			--errors-for-leak-kinds=definite --error-exitcode=99 \
			"$CA_ROOT/t/unit/json-test" "$@"
	else
		"$CA_ROOT/t/unit/json-test" "$@"
	fi
}

# Every case ran and passed: the plan line, then only "ok" lines.
all_ok() {
	local plan
	plan=$(head -1 <<<"$output")
	[[ "$plan" == 1..* ]]
	[ "$(grep -c '^ok ' <<<"$output")" -eq "${plan#1..}" ]
	refute grep '^not ok' <<<"$output"
}

@test "ca_jcompact: trailing backslashes, escapes, NULs, surrogates, white space, control bytes, strictness" {
	run -0 jt compact
	all_ok
	# A few of the cases by name, so that a shrunken table shows.
	grep -q '^ok .* a string ending in a backslash, then spaces$' <<<"$output"
	grep -q '^ok .* trailing backslash, then a newline between elements$' <<<"$output"
	grep -q '^ok .* every white space between every token$' <<<"$output"
	grep -q '^ok .* CR, LF and tab inside strings are escaped$' <<<"$output"
	grep -q '^ok .* a lone high surrogate is kept$' <<<"$output"
}

@test "ca_jparse: last duplicate key wins, NULs kept, NUL keys and lone surrogates refused" {
	run -0 jt parse
	all_ok
	grep -q '^ok .* of duplicate keys the last wins$' <<<"$output"
	grep -q '^ok .* a NUL in a string is kept$' <<<"$output"
	grep -q '^ok .* a NUL in a key is refused$' <<<"$output"
	grep -q '^ok .* a lone high surrogate is refused$' <<<"$output"
}

@test "ca_jscan: the strict and cJSON white-space rules, and ca_jmember past strings" {
	run -0 jt scan
	all_ok
	grep -q '^ok .* a form feed between tokens, cJSON.s rule only$' <<<"$output"
	grep -q '^ok .* a raw tab in a string, cJSON.s rule only$' <<<"$output"
	grep -q '^ok .* a lone high surrogate, cJSON.s rule only$' <<<"$output"
	grep -q '^ok .* ca_jmember: past a key ending in a backslash$' <<<"$output"
}

@test "json-test rejects bad usage" {
	run -2 jt
	run -2 jt bogus
}
