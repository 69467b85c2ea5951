#!/usr/bin/env bats
# Every option a man page documents is in the tool's --help, and the
# other way round; every page is lint-clean.

load test_helper

# The options a man page's .It lines document: -x and --long.
man_flags() {
	grep -E '^\.It .*Fl ' "$CA_ROOT/man/$1.1" |
		grep -oE 'Fl (Fl |\\-)?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed -E 's/^Fl Fl /--/; s/^Fl \\-/--/; s/^Fl /-/' | sort -u
}

# The options a --help text mentions; [-abc] stands for -a -b -c.
help_flags() {
	"$1" --help | grep -oE '(^|[][ ,|(])--?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed -E 's/^[][ ,|(]//' |
		while read -r f; do
			case $f in
			--*) echo "$f" ;;
			*) printf '%s\n' "${f#-}" | fold -w1 | sed 's/^/-/' ;;
			esac
		done | sort -u
}

check_tool() {
	local t=$1 f missing=""
	run "$t" --help
	[ "$status" -eq 0 ] || { echo "$t --help: exit $status"; return 1; }
	for f in $(man_flags "$t"); do
		grep -qE -- "(^|[][ ,|(-])${f#-}([^A-Za-z0-9-]|$)" <<<"$output" ||
			missing="$missing $f"
	done
	[ -z "$missing" ] || { echo "$t --help lacks:$missing"; return 1; }
	for f in $(help_flags "$t"); do
		man_flags "$t" | grep -qx -- "$f" || missing="$missing $f"
	done
	[ -z "$missing" ] || { echo "$t(1) lacks:$missing"; return 1; }
}

@test "every tool in cmd/ has a man page, and --help and it agree" {
	local t failed=0
	[ "${#CA_TOOLS[@]}" -ge 7 ]
	for t in "${CA_TOOLS[@]}"; do
		[ -f "$CA_ROOT/man/$t.1" ] || { echo "no man/$t.1"; failed=1; }
		check_tool "$t" || failed=1
	done
	[ "$failed" -eq 0 ]
}

@test "ca-chat: usage and the man page agree" {
	run ca-chat -h
	[ "$status" -eq 0 ]
	for f in $(man_flags ca-chat); do
		[[ "$output" == *"$f"* ]] || { echo "missing $f"; return 1; }
	done
}

@test "ca-emu: --help and the man page agree" {
	[ -f "$CA_ROOT/man/ca-emu.1" ]
	check_tool ca-emu
}

@test "every man page is lint-clean" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -W warning "$CA_ROOT"/man/*.1 "$CA_ROOT"/man/ca.7
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
