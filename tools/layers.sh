#!/bin/sh
# layers.sh: check that the files of lib/ and of each split tool depend
# one way.  From the built objects' symbols: file X depends on file Y
# when X uses a symbol Y defines.  tsort refuses a graph with a circle;
# the circle is printed and the exit status is 1.
# usage: sh tools/layers.sh [dir ...]	(default: lib and cmd/*/)
cd "$(dirname "$0")/.." || exit 2
[ $# -gt 0 ] || set -- lib cmd/*/
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
bad=0
for d in "$@"; do
	d=${d%/}
	set -- "$d"/*.o
	if [ ! -e "$1" ]; then
		echo "layers.sh: $d: no objects; build first" >&2
		exit 2
	fi
	for o in "$@"; do
		nm -g --defined-only "$o" | awk -v f="$o" 'NF == 3 { print $3, f }'
	done | sort >"$tmp/def"
	for o in "$@"; do
		nm -u "$o" | awk -v f="$o" '{ print $NF, f }'
	done | sort >"$tmp/use"
	join "$tmp/use" "$tmp/def" | awk '$2 != $3 { print $2, $3 }' |
	    sort -u >"$tmp/edges"
	# tsort wants a node for each file, edges or not.
	for o in "$@"; do echo "$o $o"; done >>"$tmp/edges"
	if ! tsort <"$tmp/edges" >/dev/null 2>"$tmp/err"; then
		echo "layers.sh: $d: files call each other in a circle:" >&2
		sed -n '/input contains a loop/d; s/^tsort: /	/p' "$tmp/err" >&2
		bad=1
	fi
done
exit $bad
