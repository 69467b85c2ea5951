#!/usr/bin/env bats
# ca_rfc3339 and ca_httpdate (lib/ca_time.c), the one date reader of
# ca-upload's cache expiry and the retry policy's rate-limit reset and
# retry-after, against answers worked out with date(1).

load test_helper

bats_require_minimum_version 1.5.0

tt() {
	"$CA_ROOT/t/unit/time-test" "$@"
}

@test "ca_rfc3339: Z, offsets, fractions, leap days, and what it refuses" {
	run -0 tt rfc3339 1970-01-01T00:00:00Z 2026-12-07T02:35:09Z \
		2024-02-29T23:59:59z '2026-12-07 02:35:09.123456Z' \
		2026-12-07T04:35:09+02:00 2026-12-06T21:05:09-05:30 \
		1969-12-31T23:59:59Z 2000-03-01T00:00:00Z \
		2026-12-07T02:35:09 2026-13-01T00:00:00Z 2026-12-07T24:00:00Z \
		garbage ''
	[ "$output" = "$(printf '%s\n' 0 \
		"$(date -u -d 2026-12-07T02:35:09Z +%s)" \
		"$(date -u -d 2024-02-29T23:59:59Z +%s)" \
		"$(date -u -d 2026-12-07T02:35:09Z +%s)" \
		"$(date -u -d 2026-12-07T02:35:09Z +%s)" \
		"$(date -u -d 2026-12-07T02:35:09Z +%s)" \
		-1 "$(date -u -d 2000-03-01T00:00:00Z +%s)" \
		-1 -1 -1 -1 -1)" ]
}

@test "ca_httpdate: IMF-fixdate, any month, and what it refuses" {
	run -0 tt http 'Sun, 06 Nov 1994 08:49:37 GMT' \
		'Mon, 07 Dec 2026 02:35:09 GMT' 'Thu, 29 Feb 2024 12:00:00 GMT' \
		'Wed, 31 Jan 2024 00:00:00 GMT' 'Sat, 01 Jan 2000 00:00:00 UTC' \
		'Mon, 07 Foo 2026 02:35:09 GMT' 'Sunday, 06-Nov-94 08:49:37 GMT' \
		'2026-12-07T02:35:09Z'
	[ "$output" = "$(printf '%s\n' 784111777 \
		"$(date -u -d 2026-12-07T02:35:09Z +%s)" \
		"$(date -u -d 2024-02-29T12:00:00Z +%s)" \
		"$(date -u -d 2024-01-31T00:00:00Z +%s)" \
		-1 -1 -1 -1)" ]
}

@test "time-test rejects bad usage" {
	run -2 tt
	run -2 tt bogus x
}
