#!/bin/sh
# ca-exec -j 1 against -j 32: many requests, each held by the emulator
# for a fixed latency, as a slow model would.  The ratio is what
# concurrency buys; the baseline is measured in the same run.
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

n=${CA_BENCH_REQUESTS:-64}
latency=${CA_BENCH_LATENCY_MS:-250}
emu_start --latency-ms "$latency"

i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	ca-request -n -i "b$i" "request $i"
done >"$work/req.ndjson"

run() {
	ca-exec -j "$1" <"$work/req.ndjson" >"$work/out.$1"
	[ "$(grep -c '"type":"response"' "$work/out.$1")" -eq "$n" ]
}
t1=$(seconds run 1)
t32=$(seconds run 32)
echo "ca-exec: $n requests, ${latency} ms emulator latency each"
echo "  -j 1:  ${t1} s"
echo "  -j 32: ${t32} s"
echo "$t1 $t32" | awk '{ printf "  ratio: -j 32 is %.1fx faster than -j 1\n", $1 / $2 }'
