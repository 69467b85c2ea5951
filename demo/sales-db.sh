#!/bin/sh
# A client tool: run one read-only SQL query against the sales data
# (demo/sales.csv, loaded into an in-memory SQLite database) and print
# the rows as JSON.  The call's input, {"sql": "..."}, is on stdin.
set -eu
dir=$(dirname "$0")
sql=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["sql"])')
exec sqlite3 -bail -json :memory: -cmd ".import --csv $dir/sales.csv sales" \
	-cmd ".mode json" "$sql"
