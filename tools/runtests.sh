#!/bin/sh
# Run the bats suite (arguments go to bats), show its TAP as it comes,
# and close with one plain line: "N passed, N failed, N skipped".
set -u
tap=$(mktemp "${TMPDIR:-/tmp}/ca-tests.XXXXXX")
trap 'rm -f "$tap" "$tap.rc"' EXIT
{ ${BATS:-bats} "$@" </dev/null; echo $? >"$tap.rc"; } | tee "$tap"
rc=$(cat "$tap.rc")
awk '
	/^ok .*# skip/ { skipped++; next }
	/^ok / { passed++ }
	/^not ok / { failed++ }
	END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$tap"
exit "$rc"
