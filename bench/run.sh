#!/bin/sh
# make bench: every goal of the speed table, each against its reference
# measured in the same run (see bench/table.py).
set -eu
exec python3 "$(dirname "$0")/table.py"
