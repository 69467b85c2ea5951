#!/bin/sh
# Build the Debian package (debian/) with dpkg-buildpackage -us -uc -b in
# a scratch copy of the tree, so that neither the build's products nor
# its make clean touch this one, and move what it made (ca_*.deb, the
# debug symbols' ca-dbgsym_*.deb, .buildinfo, .changes) into OUTDIR,
# the top of the tree unless given.
#
# usage: sh tools/deb.sh [OUTDIR]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ca-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The source is what git tracks or would track (not what it ignores:
# built tools, out/), or the whole tree when this is not a checkout.
mkdir "$work/ca"
cd "$top"
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$top" ]; then
	# Less the tracked files deleted here; the inner $f is the inner sh's.
	# shellcheck disable=SC2016
	git ls-files -z -c -o --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$work/ca"
else
	tar --exclude=./.git -cf - . | tar -xf - -C "$work/ca"
fi

(cd "$work/ca" && dpkg-buildpackage -us -uc -b)
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
	[ -e "$f" ] || continue
	mv -f "$f" "$out/"
	echo "deb: $out/${f##*/}"
done
