#!/bin/sh
# ca-batch against the hand-rolled way, in the same run: N small
# requests submitted as Message Batches, waited for and collected, by
# ca-batch (submit, poll, download, write the transcript) and by
# jq -cs + curl (submit) and curl (poll, then download the results).
# Peak RSS and wall time of each; ca-batch streams its input and the
# results, so its memory is an index of the requests, not their bytes.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/emu.sh
. "$root/tools/emu.sh"
emu_session ca-bench-batch
emu_launch "$root" "$work/emu" local-bench-key-not-real
PATH="$root:$PATH"
export PATH

n=${CA_BENCH_BATCH:-100000}

# Wall-clock seconds of a command, to the millisecond.
seconds() {
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }'
}

# Peak RSS (KiB) and wall time of a shell command: "KIB SECONDS" (the
# RSS is the largest of its processes').  GNU time is needed for the
# RSS; without it the RSS reads 0.
measure() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M %e' -o "$work/time" sh -c "$1" >/dev/null
		cat "$work/time"
	else
		echo "0 $(seconds sh -c "$1" >/dev/null)"
	fi
}
export work

awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"request\",\"custom_id\":\"b%d\",\"betas\":[],\"params\":{\"model\":\"claude-opus-5-5\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"request %d\"}]}}\n", i, i }' \
	>"$work/req.ndjson"

printf 'x-api-key: %s\nanthropic-version: 2026-10-21\n' "$ANTHROPIC_API_KEY" \
	>"$work/hdr"

# These run under sh -c, where $work (exported) expands.
# shellcheck disable=SC2016
batch='ca-batch --poll 0.2 <"$work/req.ndjson" >"$work/out.ndjson"'

# The hand-rolled way: slurp, wrap, POST; poll; GET the results.
# shellcheck disable=SC2016
submit='jq -cs "{requests: map({custom_id, params})}" "$work/req.ndjson" |
	curl -sf -H @"$work/hdr" -H "content-type: application/json" \
	--data-binary @- "$ANTHROPIC_BASE_URL/v1/messages/batches" \
	>"$work/created.json"'
# shellcheck disable=SC2016
download='id=$(jq -r .id "$work/created.json")
	until curl -sf -H @"$work/hdr" \
	    "$ANTHROPIC_BASE_URL/v1/messages/batches/$id" >"$work/b.json" &&
	    [ "$(jq -r .processing_status "$work/b.json")" = ended ]; do
		sleep 0.2
	done
	curl -sf -H @"$work/hdr" "$(jq -r .results_url "$work/b.json")" \
	    >"$work/results.jsonl"'

r=$(measure "$batch")
b_rss=${r% *} b_s=${r#* }
[ "$(grep -c '"type":"response"' "$work/out.ndjson")" -eq "$n" ]
r=$(measure "$submit")
j_rss=${r% *} j_s=${r#* }
r=$(measure "$download")
c_rss=${r% *} c_s=${r#* }
[ "$(wc -l <"$work/results.jsonl")" -eq "$n" ]
echo "ca-batch: $n requests in one batch (emulator on loopback)"
echo "  ca-batch (submit, wait, collect, write): ${b_s} s, peak RSS ${b_rss} KiB"
echo "  jq -cs + curl (submit):                  ${j_s} s, peak RSS ${j_rss} KiB"
echo "  curl (wait, download the results):       ${c_s} s, peak RSS ${c_rss} KiB"
echo "$b_s $j_s $c_s $b_rss $j_rss" | awk '{ printf "  ratio: ca-batch takes %.2fx the time of jq+curl (which write no transcript); %.2fx the memory of jq -cs\n", $1 / ($2 + $3), $4 / $5 }'
