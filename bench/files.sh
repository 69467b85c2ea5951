#!/bin/sh
# ca-upload and ca-fetch on a large file against curl doing the same
# transfer to the same emulator in the same run: wall time, throughput
# and peak RSS.  ca-upload hashes the file and ca-fetch hashes and syncs
# what it writes, so each is also set against curl plus sha256sum (and
# sync), the same work done by two programs.  Downloads are CA_BENCH_MIB
# (default 1024) MiB; uploads the same, but at most the 500 MB the Files
# API takes (ca-upload refuses more before sending).
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

mib=${CA_BENCH_MIB:-1024}
bytes=$((mib * 1048576))
umib=$((mib < 476 ? mib : 476))
emu_start --max-file-size $((bytes + 1048576))

# Peak RSS (KiB) and wall time of a command: "KIB SECONDS".  GNU time
# forks a small C program, so the figure is the command's own.
measure() {
	/usr/bin/time -f '%M %e' -o "$work/time" "$@" >/dev/null ||
		{ echo "benchmark command failed: $1" >&2; exit 1; }
	cat "$work/time"
}

# row NAME COMMAND...: measure, print a line, leave "KIB SECONDS" in $r;
# $size is the MiB moved.
row() {
	name=$1
	shift
	r=$(measure "$@")
	echo "$name $r $size" | awk '{
		printf "  %-16s %7.2f s %8.1f MiB/s   peak RSS %6.1f MiB\n",
		    $1, $3, $4 / $3, $2 / 1024 }'
}


head -c $((umib * 1048576)) /dev/urandom >"$work/big.bin"
url=$ANTHROPIC_BASE_URL
h1="x-api-key: $ANTHROPIC_API_KEY"
h2="anthropic-version: 2026-10-21"
export work url h1 h2

size=$umib
echo "upload of $umib MiB (POST /v1/files, multipart, emulator on loopback):"
row curl curl -sf -o /dev/null -H "$h1" -H "$h2" -F "file=@$work/big.bin" "$url/v1/files"
c=$r
# shellcheck disable=SC2016
row sha256sum+curl sh -c 'sha256sum "$work/big.bin" >/dev/null &&
	curl -sf -o /dev/null -H "$h1" -H "$h2" -F "file=@$work/big.bin" "$url/v1/files"'
cs=$r
row ca-upload ca-upload -n -q "$work/big.bin"
u=$r
echo "$u $c $cs" | awk '{ printf "  ratio: ca-upload takes %.2fx the time of curl, %.2fx that of sha256sum+curl; %.2fx the memory of curl\n", $2 / $4, $2 / $6, $1 / $3 }'

id=$(curl -sf -H 'content-type: application/json' \
	--data-binary "{\"filename\":\"big.bin\",\"size\":$bytes}" \
	"$url/_emu/files" | jq -r .id)
export id
size=$mib
echo "download of $mib MiB (GET /v1/files/{id}/content):"
row curl curl -sf -o "$work/curl.bin" -H "$h1" -H "$h2" "$url/v1/files/$id/content"
c=$r
rm -f "$work/curl.bin"
# shellcheck disable=SC2016
row curl+sha256sum sh -c 'curl -sf -H "$h1" -H "$h2" "$url/v1/files/$id/content" |
	tee "$work/curl.bin" | sha256sum >/dev/null && sync "$work/curl.bin"'
cs=$r
rm -f "$work/curl.bin"
mkdir "$work/out"
row ca-fetch ca-fetch -q -d "$work/out" --id "$id"
f=$r
echo "$f $c $cs" | awk '{ printf "  ratio: ca-fetch takes %.2fx the time of curl, %.2fx that of curl+sha256sum+sync; %.2fx the memory of curl\n", $2 / $4, $2 / $6, $1 / $3 }'
