#!/bin/sh
# The generated code's $1 and $2 are meant literally.
# shellcheck disable=SC2016
# Generate the bash and zsh completions of the ca tools from their own
# --help (the options), from the model table lib/models.tsv (the model
# names, leaving out the retired) and from lib/ca_model.c (tool versions,
# skill ids), so none can drift from the tools.
#
# usage: sh completion/gen.sh BINDIR OUTDIR
# writes OUTDIR/ca.bash and OUTDIR/_ca.
set -eu

bindir=${1:-.}
outdir=${2:-completion}
src=$(dirname "$0")/../lib/ca_model.c
tsv=$(dirname "$0")/../lib/models.tsv
# The tools, found as the Makefile finds them (cmd/NAME.c or cmd/NAME/),
# and the ca-chat script.
tools=$(for f in "$(dirname "$0")"/../cmd/*.c "$(dirname "$0")"/../cmd/*/; do
	[ -e "$f" ] || continue
	f=${f%/}
	f=${f##*/}
	echo "${f%.c}"
done | sort | tr '\n' ' ')ca-chat

# The strings of one table in ca_model.c: the first quoted field of each
# "{ "..." line between "NAME[] = {" and "};".
table() {
	sed -n "/$1\\[\\] = {/,/^};/p" "$src" |
		sed -n 's/^[[:space:]]*{ "\([^"]*\)".*/\1/p' | tr '\n' ' ' |
		sed 's/ $//'
}
# The models not retired today ($CA_TODAY, as ca-request reads it): an
# end of life that is "retired", or a date not after today, is out.
today=${CA_TODAY:-$(date -u +%Y-%m-%d)}
models=$(awk -F '\t' -v today="$today" '
	/^#/ || NF < 6 { next }
	$6 == "retired" || ($6 != "-" && $6 <= today) { next }
	{ printf "%s%s", n++ ? " " : "", $1 }' "$tsv")
versions=$(table ca_tools)
skills=$(sed -n 's/.*ca_skills\[\] = {\(.*\)NULL };/\1/p' "$src" |
	tr -d '",' | sed 's/  */ /g; s/^ //; s/ $//')
if [ -z "$models" ] || [ -z "$versions" ] || [ -z "$skills" ]; then
	echo "gen.sh: cannot read the tables in $src and $tsv" >&2
	exit 1
fi

# The help text of a tool: --help, or ca-chat's -h.
helptext() {
	case $1 in
	ca-chat) "$bindir/$1" -h 2>&1 || true ;;
	*) "$bindir/$1" --help ;;
	esac
}

# Every option the help names, one per line: "-x" or "--long" ("[-abc]"
# names -a -b -c), as t/docs.bats reads them.
options() {
	helptext "$1" | grep -oE '(^|[][ ,|(])--?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed -E 's/^[][ ,|(]//' |
		while read -r f; do
			case $f in
			--*) echo "$f" ;;
			*) printf '%s\n' "${f#-}" | fold -w1 | sed 's/^/-/' ;;
			esac
		done | sort -u
}

# The options that take a value: in an option line, an option followed
# by a word before the description ("-m, --model MODEL  the model"), or
# in the usage, "[-x word]".  An optional value ("--cache[=5m|1h]")
# comes only after "=": those are listed as "--cache=".
argoptions() {
	helptext "$1" | awk '
	/^usage:|^ +\[|^ +[a-z-]+ \[/ {
		s = $0
		while (match(s, /\[--?[A-Za-z0-9][A-Za-z0-9-]* [^]-][^]]*\]/)) {
			o = substr(s, RSTART + 1, RLENGTH - 2)
			sub(/ .*/, "", o)
			print o
			s = substr(s, RSTART + RLENGTH)
		}
		next
	}
	/^ +-/ {
		left = $0
		sub(/^ +/, "", left)
		sub(/  .*/, "", left)
		n = split(left, w, /[ ,]+/)
		last = ""
		for (i = 1; i <= n; i++) {
			if (w[i] ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*\[=/) {
				o = w[i]; sub(/\[.*/, "", o); print o "="
				last = ""
			} else if (w[i] ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*=/) {
				o = w[i]; sub(/=.*/, "", o)
				for (k = 1; k < i; k++) if (w[k] ~ /^-/) print w[k]
				print o
				last = ""
			} else if (w[i] ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*$/)
				last = last " " w[i]
			else if (w[i] != "" && last != "") {
				m = split(last, ow, / /)
				for (k = 1; k <= m; k++) if (ow[k] != "") print ow[k]
				last = ""
			}
		}
	}' | sort -u
}

# The values an option takes: "words ..." or @files / @dirs.
values() {
	case $1:$2 in
	ca-request:-m|ca-request:--model|ca-chat:-m) echo "$models" ;;
	ca-request:-T|ca-request:--tool|ca-chat:-T) echo "$versions" ;;
	ca-request:--skill)
		echo "$skills" | awk '{ for (i = 1; i <= NF; i++)
			printf "%s anthropic:%s ", $i, $i; print "custom:" }' ;;
	ca-request:-W|ca-request:--web) echo "search fetch" ;;
	ca-request:--betas) echo "auto legacy none" ;;
	ca-request:--effort) echo "low medium high max" ;;
	ca-request:--cache=) echo "5m 1h" ;;
	ca-request:--thinking=) echo "adaptive" ;;
	ca-request:-f|ca-request:--file|ca-request:--schema) echo "@files" ;;
	ca-render:-f|ca-render:--format) echo "text markdown html" ;;
	# --color takes its value only after "=" (an optional value).
	ca-render:-C|ca-render:--color=) echo "auto always never" ;;
	ca-render:-d|ca-render:--dir|ca-fetch:-d|ca-chat:-d) echo "@dirs" ;;
	ca-fetch:-o|ca-chat:-t) echo "@files" ;;
	ca-files:--betas) echo "legacy" ;;
	*) echo "" ;;
	esac
}

# The shell-neutral core: _ca_values TOOL PREV CUR sets reply to the
# candidates (ca_kind to files, dirs or words).  Plain POSIX-ish shell
# that bash and zsh (with sh_word_split) both run.
core() {
	echo '_ca_values() {'
	echo '	ca_kind=words'
	echo '	ca_opts=""'
	echo '	ca_args=""'
	echo '	ca_val=""'
	echo '	ca_pos=""'
	echo '	case $1 in'
	for t in $tools; do
		o=$(options "$t" | tr '\n' ' ' | sed 's/ $//')
		a=$(argoptions "$t" | tr '\n' ' ' | sed 's/ $//')
		case $t in
		ca-upload|ca-chat) pos=@files ;;
		*) pos="" ;;
		esac
		echo "	$t)"
		echo "		ca_opts=\"$o\""
		echo "		ca_args=\"$a\""
		echo "		ca_pos=\"$pos\""
		echo "		case \$2 in"
		for x in $a; do
			v=$(values "$t" "$x")
			echo "		$x) ca_val=\"$v\" ;;"
		done
		echo "		esac"
		echo "		;;"
	done
	echo '	*) return 1 ;;'
	echo '	esac'
	cat <<-'EOF'
	case " $ca_args " in
	*" $2 "*) ;;
	*) ca_val="" ;;
	esac
	# After an option that takes a value: its values, or nothing.
	case " $ca_args " in
	*" $2 "*)
		case $ca_val in
		@files) ca_kind=files ;;
		@dirs) ca_kind=dirs ;;
		*) ca_words=$ca_val ;;
		esac
		return 0 ;;
	esac
	case $3 in
	-*) ca_words=$ca_opts ;;
	*)
		case $ca_pos in
		@files) ca_kind=files ;;
		*) ca_words="" ;;
		esac ;;
	esac
	return 0
	}
	EOF
}

# "--opt=" forms: the words after "=" for an optional-value option.
eqvalues() {
	echo '_ca_eqvalues() {'
	echo '	ca_words=""'
	echo '	case $1:$2 in'
	for t in $tools; do
		for x in $(argoptions "$t"); do
			case $x in
			--*)
				v=$(values "$t" "$x")
				[ -z "$v" ] && v=$(values "$t" "$x=")
				case $v in
				@*|"") ;;
				*) echo "	$t:${x%=}) ca_words=\"$v\" ;;" ;;
				esac ;;
			esac
		done
	done
	echo '	esac'
	echo '}'
}

mkdir -p "$outdir"
{
	echo "# bash completion for the ca tools; generated by completion/gen.sh"
	echo "# from the tools' --help and their model table: do not edit."
	echo "# Plain bash: complete -F, no bash-completion helpers needed."
	core
	eqvalues
	cat <<-'EOF'
	_ca_complete() {
		local cur=${COMP_WORDS[COMP_CWORD]} prev="" cmd=${COMP_WORDS[0]##*/}
		local ca_kind ca_opts ca_args ca_val ca_pos ca_words="" w
		[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
		COMPREPLY=()
		if [[ $cur == --*=* ]]; then
			_ca_eqvalues "$cmd" "${cur%%=*}"
			for w in $ca_words; do
				[[ ${cur%%=*}=$w == "$cur"* ]] && COMPREPLY+=("${cur%%=*}=$w")
			done
			return 0
		fi
		_ca_values "$cmd" "$prev" "$cur" || return 0
		case $ca_kind in
		files) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		dirs) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -W "$ca_words" -- "$cur") ;;
		esac
		return 0
	}
	EOF
	echo "complete -F _ca_complete $tools"
} >"$outdir/ca.bash.tmp"
mv "$outdir/ca.bash.tmp" "$outdir/ca.bash"

{
	echo "#compdef $tools"
	echo "# zsh completion for the ca tools; generated by completion/gen.sh"
	echo "# from the tools' --help and their model table: do not edit."
	core
	eqvalues
	cat <<-'EOF'
	_ca() {
		setopt local_options sh_word_split
		local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
		local cmd=${words[1]:t}
		local ca_kind ca_opts ca_args ca_val ca_pos ca_words=""
		if [[ $cur == --*=* ]]; then
			_ca_eqvalues "$cmd" "${cur%%=*}"
			compset -P '*='
			compadd -- $ca_words
			return
		fi
		_ca_values "$cmd" "$prev" "$cur" || return 1
		case $ca_kind in
		files) _files ;;
		dirs) _files -/ ;;
		*) compadd -- $ca_words ;;
		esac
	}
	_ca "$@"
	EOF
} >"$outdir/_ca.tmp"
mv "$outdir/_ca.tmp" "$outdir/_ca"
