#!/usr/bin/env bats
# The bash and zsh completions: generated from each tool's --help and
# the model table, so every option of --help completes and nothing else.

load test_helper

# Every tool test_helper found in cmd/, sorted, then the ca-chat script.
TOOLS="$(printf '%s\n' "${CA_TOOLS[@]}" | sort | tr '\n' ' ')ca-chat"

setup() {
	ca_test_setup
	[ -f "$CA_ROOT/completion/ca.bash" ] || skip "completion not built (make all)"
}

# What the bash completion offers for a command line whose last word is
# being completed: complete LINE... (the last argument may be "").
complete_words() {
	bash --norc --noprofile -c '
		source "$1/completion/ca.bash"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_ca_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$CA_ROOT" "$@" | sort
}

# The options a tool's help names, as t/docs.bats reads them.
help_flags() {
	case $1 in
	ca-chat) ca-chat -h 2>&1 ;;
	*) "$1" --help ;;
	esac | grep -oE '(^|[][ ,|(])--?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed -E 's/^[][ ,|(]//' |
		while read -r f; do
			case $f in
			--*) echo "$f" ;;
			*) printf '%s\n' "${f#-}" | fold -w1 | sed 's/^/-/' ;;
			esac
		done | sort -u
}

@test "the completion is current: generating it again from --help changes nothing" {
	sh "$CA_ROOT/completion/gen.sh" "$CA_ROOT" fresh
	cmp fresh/ca.bash "$CA_ROOT/completion/ca.bash"
	cmp fresh/_ca "$CA_ROOT/completion/_ca"
}

@test "bash: every tool completes exactly the options its --help names" {
	for t in $TOOLS; do
		diff -u <(help_flags "$t") <(complete_words "$t" -) ||
			{ echo "$t differs from its --help"; return 1; }
	done
}

@test "bash: the new options of ca-request, ca-exec and ca-render complete" {
	[[ "$(complete_words ca-request --sk)" == "--skill" ]]
	[[ "$(complete_words ca-request --web)" == *"--web-max-uses"* ]]
	[[ "$(complete_words ca-exec --max-cos)" == "--max-cost" ]]
	[[ "$(complete_words ca-render --no)" == "--no-thinking" ]]
}

@test "bash: models, tool versions and skills come from the built-in table" {
	run complete_words ca-request -m claude-opus-4-
	[ "$status" -eq 0 ]
	# claude-opus-4-20250514 is retired: not offered.
	[ "$output" = "$(printf '%s\n' claude-opus-4-5 claude-opus-4-5-20251101 claude-opus-4-6 claude-opus-4-7 claude-opus-4-8 | sort)" ]
	run complete_words ca-request --tool ''
	[ "$(wc -l <<<"$output")" -eq 4 ]
	[[ "$output" == *code_execution_20260521* ]]
	run complete_words ca-chat -T code_execution_2026
	[ "$output" = "$(printf '%s\n' code_execution_20260120 code_execution_20260521)" ]
	run complete_words ca-request --skill x
	[ "$output" = xlsx ]
	run complete_words ca-request --skill anthropic:p
	[ "$output" = "$(printf '%s\n' anthropic:pdf anthropic:pptx)" ]
}

@test "no retired model is offered; every other model of the table is" {
	run complete_words ca-request -m claude-
	for m in claude-3-7-sonnet-20250219 claude-3-5-haiku-latest claude-opus-4-20250514 claude-sonnet-4-20250514; do
		refute grep -qx "$m" <<<"$output"
	done
	grep -qx claude-opus-5-5 <<<"$output"
	[ "$(wc -l <<<"$output")" -eq "$(awk -F '\t' -v t="$(date -u +%Y-%m-%d)" '!/^#/ && NF == 6 && $6 != "retired" && ($6 == "-" || $6 > t)' "$CA_ROOT/lib/models.tsv" | wc -l)" ]
	# completion/gen.sh reads the same table the tools are built from.
	CA_TODAY=2026-01-01 sh "$CA_ROOT/completion/gen.sh" "$CA_ROOT" "$BATS_TEST_TMPDIR"
	grep -q 'claude-opus-4-20250514' "$BATS_TEST_TMPDIR/ca.bash"
	refute grep -q 'claude-3-7-sonnet-20250219' "$BATS_TEST_TMPDIR/ca.bash"
}

@test "bash: option values, --opt=value forms, files and directories" {
	run complete_words ca-request -W ''
	[ "$output" = "$(printf '%s\n' fetch search)" ]
	run complete_words ca-request --effort m
	[ "$output" = "$(printf '%s\n' max medium)" ]
	run complete_words ca-request --cache=1
	[ "$output" = "--cache=1h" ]
	run complete_words ca-render --format m
	[ "$output" = markdown ]
	run complete_words ca-render --color=al
	[ "$output" = "--color=always" ]
	run complete_words ca-render --color ''
	[ -z "$output" ]
	mkdir -p dd/sub
	touch schema.json sales.csv
	run complete_words ca-request --schema sch
	[ "$output" = schema.json ]
	run complete_words ca-upload sa
	[ "$output" = sales.csv ]
	run complete_words ca-fetch -d d
	[ "$output" = dd ]
	# A value that takes no completion offers nothing, not options.
	run complete_words ca-exec --max-cost ''
	[ -z "$output" ]
}

@test "bash: plain complete -F, none of the bash-completion package's helpers" {
	refute grep -qE '_init_completion|_filedir|_get_comp_words_by_ref|__ltrim_colon' \
		"$CA_ROOT/completion/ca.bash"
	run bash --norc --noprofile -c "source '$CA_ROOT/completion/ca.bash'; complete -p ca-request"
	[ "$output" = "complete -F _ca_complete ca-request" ]
}

@test "zsh: the same options and values, for every tool" {
	f=$CA_ROOT/completion/_ca
	[ "$(head -1 "$f")" = "#compdef $TOOLS" ]
	for t in $TOOLS; do
		opts=$(sed -n "/^	$t)$/,/^		;;$/p" "$f" | sed -n 's/^		ca_opts="\(.*\)"$/\1/p' | tr ' ' '\n' | sort)
		diff -u <(help_flags "$t") <(printf '%s\n' "$opts") ||
			{ echo "zsh: $t differs from its --help"; return 1; }
	done
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -n "$f"
}

@test "make install puts the completions in the usual directories under PREFIX" {
	run make -s -C "$CA_ROOT" install DESTDIR="$PWD/dest" PREFIX=/opt/ca
	[ "$status" -eq 0 ]
	for t in $TOOLS; do
		cmp "$CA_ROOT/completion/ca.bash" "dest/opt/ca/share/bash-completion/completions/$t"
	done
	cmp "$CA_ROOT/completion/_ca" dest/opt/ca/share/zsh/site-functions/_ca
}

@test "bash: ca-skills completes its options" {
	[ "$(complete_words ca-skills --vers | tr '\n' ' ')" = "--version --versions " ]
	[ "$(complete_words ca-skills --so)" = "--source" ]
	[ "$(complete_words ca-skills --no)" = "--no-cache" ]
}
