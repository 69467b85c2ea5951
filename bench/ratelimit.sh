#!/bin/sh
# ca-exec against a rate limit: N requests at -j 64 to the emulator in
# its rate-limited mode (token buckets on requests and input tokens a
# minute, the API's headers and 429 bodies), once paced (the default)
# and once with --no-pace (what ca-exec did before it read the limit
# headers: retry 429s as the SDKs do).  Prints, for each, the rate of
# answered requests and of input tokens as a fraction of the limits,
# and how many requests the emulator answered 429.
#
# The limits: CA_BENCH_RPM requests (default 2000) and CA_BENCH_ITPM
# input tokens (default 200000) a minute, each bucket two seconds deep
# (burst_s 2: the API may enforce a minute's rate over shorter spans),
# and requests of about 100 input tokens, so that both limits bind:
# 2,000 requests take about a minute.  What the limits allow in a run
# of t seconds is the full bucket it starts with and t seconds of the
# rate: (2 + t) * limit / 60; the figures are fractions of that.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/emu.sh
. "$root/tools/emu.sh"
emu_session ca-bench-ratelimit
emu_launch "$root" "$work/emu" local-bench-key-not-real
PATH="$root:$PATH"
export PATH

n=${CA_BENCH_RL:-2000}
rpm=${CA_BENCH_RPM:-2000}
itpm=${CA_BENCH_ITPM:-200000}
pad=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "x" }')
awk -v n="$n" -v pad="$pad" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"request\",\"custom_id\":\"r%d\",\"params\":{\"model\":\"claude-opus-5-5\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"request %d %s\"}]}}\n", i, i, pad }' \
	>"$work/req.ndjson"

run() {
	label=$1
	shift
	curl -sf -X POST -H 'content-type: application/json' --data-binary '{}' \
		"$EMU_URL/_emu/reset" >/dev/null
	curl -sf -X POST -H 'content-type: application/json' --data-binary \
		"{\"ratelimit\":{\"rpm\":$rpm,\"itpm\":$itpm,\"burst_s\":2}}" \
		"$EMU_URL/_emu/config" >/dev/null
	s=$(date +%s.%N)
	rc=0
	ca-exec -j 64 ${1+"$@"} <"$work/req.ndjson" >"$work/out.ndjson" \
		2>"$work/err" || rc=$?
	e=$(date +%s.%N)
	ok=$(grep -c '"type":"response"' "$work/out.ndjson" || true)
	# What the emulator saw: every attempt, its status, its input tokens
	# (len(body)/4, as it charges them).
	jq -r 'select(.path == "/v1/messages") | "\(.status) \(.body | tojson | length)"' \
		"$work/emu/log.ndjson" >"$work/seen"
	echo "$s $e $rc $ok $rpm $itpm" | cat - "$work/seen" | awk -v mode="$label" '
		NR == 1 { t = $2 - $1; rc = $3; ok = $4; rpm = $5; itpm = $6; next }
		{ sent++ }
		$1 == 429 { n429++ }
		$1 == 200 { tok += int($2 / 4) }
		END {
			printf "  %-8s %d answered in %.1f s (exit %d): %.2f of the request limit, %.2f of the input-token limit; %d attempts, %d answered 429 (%.1f%% of requests)\n",
			    mode, ok, t, rc, ok / ((2 + t) * rpm / 60),
			    tok / ((2 + t) * itpm / 60),
			    sent, n429, 100 * n429 / ok
		}'
}

echo "ca-exec -j 64: $n requests against $rpm requests and $itpm input tokens a minute (emulator on loopback)"
run paced
run no-pace --no-pace
