#!/bin/sh
# make bench: every benchmark, each against its own baseline.
set -eu
cd "$(dirname "$0")"
for b in exec.sh files.sh; do
	[ -f "$b" ] && sh "$b"
done
