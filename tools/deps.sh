#!/bin/sh
# Install, from Debian's packages, whatever the build and tests need and
# this machine lacks.  Quiet when nothing is missing.
set -eu

need=""
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pc() { pkg-config --exists "$1" 2>/dev/null; }

have_cmd cc || need="$need gcc"
have_cmd make || need="$need make"
have_cmd pkg-config || need="$need pkg-config"
have_pc libcurl || need="$need libcurl4-openssl-dev"
have_pc libcjson || need="$need libcjson-dev"
have_pc libcrypto || need="$need libssl-dev"
have_cmd bats || need="$need bats"
have_cmd jq || need="$need jq"
have_cmd curl || need="$need curl"
have_cmd python3 || need="$need python3"
have_cmd mandoc || need="$need mandoc"
have_cmd shellcheck || need="$need shellcheck"
have_cmd valgrind || need="$need valgrind"
have_cmd file || need="$need file"
[ -x /usr/bin/time ] || need="$need time"
[ -n "${CA_NO_BROWSER:-}" ] || have_cmd chromium || need="$need chromium"

[ -n "$need" ] || exit 0
echo "deps: installing:$need" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
