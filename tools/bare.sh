#!/bin/sh
# The README's commands, `make demo`, `make check` and `make deb`, as a
# new user runs them: in a fresh clone inside a bare Debian 12 root, with
# an empty environment (make deb last, so that make check proves it
# installs what it needs without the packaging tools).  A package that tools/deps.sh forgets to install fails
# here, not on a user's machine.  CI runs this (.ci/run); it needs root.
#
# The root (debootstrap minbase plus git, make and ca-certificates, as a
# user has after cloning) is made once and kept under /var/tmp; each run
# writes to an overlay on it, thrown away after, so every run starts
# bare.  Debian is reached the way this machine's apt reaches it: the
# mirror, DNS and apt settings are this machine's.
#
# Usage: tools/bare.sh [repository]	(default: this checkout's HEAD)
# CA_BARE_TARGETS names other make targets to run (default: demo check deb).
set -eu

suite=bookworm
include=git,make,ca-certificates
cache=/var/tmp/ca-bare-$suite-minbase-$(echo "$include" | tr , -)
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
say() { echo "bare: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "needs root (mounts, chroot)"; exit 2; }

# Everything below runs in a mount namespace of its own: the overlay and
# the /proc, /sys and /dev inside the root disappear with it, even if
# this script is killed, and nothing mounted here reaches the host.
if [ -z "${CA_BARE_NS:-}" ]; then
	CA_BARE_NS=1 exec unshare --mount --propagation private \
	    /bin/sh "$0" "$repo"
fi

# The Debian mirror that apt uses here for $suite, from one-line
# (sources.list) or deb822 (*.sources) files.
mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$suite" '$1 == "deb" {
			sub(/\[[^]]*\][ \t]*/, "")
			if ($3 == s) { print $2; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$suite" 'BEGIN { RS = "" }
		{
			n = split($0, line, "\n"); deb = 0; hit = 0; on = 1; uri = ""
			for (i = 1; i <= n; i++) {
				if (line[i] ~ /^#/) continue
				k = split(line[i], w, /[ \t]+/)
				key = tolower(w[1])
				for (j = 2; j <= k; j++) {
					if (key == "types:" && w[j] == "deb") deb = 1
					if (key == "suites:" && w[j] == s) hit = 1
					if (key == "uris:" && uri == "") uri = w[j]
					if (key == "enabled:" && w[j] == "no") on = 0
				}
			}
			if (deb && hit && on && uri != "") { print uri; exit }
		}' "$f"
	done | head -n 1
}

# The cached root, made once: built under a temporary name and renamed
# when complete, so a failed build leaves nothing under the final name.
make_root() {
	[ -d "$cache" ] && return 0
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends debootstrap >/dev/null
	fi
	url=$(mirror)
	[ -n "$url" ] || { say "no deb source for $suite in /etc/apt"; exit 1; }
	new=$(mktemp -d "$cache.new.XXXXXX")
	chmod 755 "$new"
	say "debootstrap --variant=minbase --include=$include $suite from $url"
	t0=$(date +%s)
	if ! debootstrap --variant=minbase --include="$include" \
	    "$suite" "$new" "$url" >"$new.log" 2>&1; then
		tail -n 20 "$new.log" >&2
		rm -rf "$new" "$new.log"
		say "debootstrap failed"
		exit 1
	fi
	rm -f "$new.log"
	mv "$new" "$cache"
	say "debootstrap: $(($(date +%s) - t0)) s"
}

# How this machine reaches Debian, into the root: DNS, the apt sources
# that name the mirror, and apt's settings for fetching.
copy_apt_setup() {
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	url=$(mirror)
	found=""
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		if [ ! -f "$f" ] || ! grep -qF "$url" "$f"; then
			continue
		fi
		[ -n "$found" ] || rm -f "$root/etc/apt/sources.list"
		found=1
		cp "$f" "$root$f"
	done
	for f in /etc/apt/apt.conf.d/*; do
		if [ -f "$f" ] && grep -q '^[[:space:]]*Acquire' "$f"; then
			cp "$f" "$root$f"
		fi
	done
}

# shellcheck disable=SC2317	# called by the trap
cleanup() {
	umount -R "$root" 2>/dev/null || umount -R -l "$root" 2>/dev/null || :
	rm -rf "$run"
}

# One of the README's commands in the root, in the clone, as a user with
# nothing set; its output goes to ours, its status is returned.
in_root() {
	chroot "$root" /usr/bin/env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root TERM=dumb LANG=C.UTF-8 \
	    /bin/sh -c 'cd /root/ca && exec "$@"' sh "$@" </dev/null
}

make_root

run=$(mktemp -d /var/tmp/ca-bare-run.XXXXXX)
root=$run/root
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$run/upper" "$run/work" "$root"
if mount -t overlay ca-bare \
    -o "lowerdir=$cache,upperdir=$run/upper,workdir=$run/work" "$root" \
    2>/dev/null; then
	say "root: overlay on $cache"
else
	say "overlayfs cannot be mounted here: copying $cache (cp -a)"
	cp -a "$cache/." "$root/"
fi
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
copy_apt_setup
git clone -q "$repo" "$root/root/ca"
say "clone of $repo at $(git -C "$root/root/ca" rev-parse --short HEAD)"

rc=0
for target in ${CA_BARE_TARGETS:-demo check deb}; do
	say "make $target"
	t0=$(date +%s)
	st=0
	in_root make "$target" || st=$?
	say "make $target: exit $st, $(($(date +%s) - t0)) s"
	[ "$st" -eq 0 ] || rc=1
done
exit "$rc"
