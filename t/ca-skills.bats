#!/usr/bin/env bats
# ca-skills against the local API emulator, and skill records through
# ca-request into the container.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# mkskill DIR [NAME]: a skill directory with SKILL.md and a package.
mkskill() {
	mkdir -p "$1/pkg"
	printf '%s\n' '---' "name: ${2:-$(basename "$1")}" \
		'description: A tiny vendored package.' '---' 'Put me on sys.path.' \
		>"$1/SKILL.md"
	echo 'def hi(): return 42' >"$1/pkg/__init__.py"
}

posts() { emu_log | jq -c 'select(.method == "POST" and (.path | startswith("/v1/skills")))'; }

@test "a directory becomes a skill: multipart files[] with the directory's name, a skill record" {
	mkskill mylib
	mkdir -p mylib/pkg/sub
	echo 'x = 1' >mylib/pkg/sub/mod.py
	run --separate-stderr ca-skills mylib
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	rec=$output
	[ "$(jq -r '[.type, .path, .name] | join(" ")' <<<"$rec")" = "skill mylib mylib" ]
	[[ "$(jq -r .digest <<<"$rec")" =~ ^[0-9a-f]{64}$ ]]
	[[ "$(jq -r .skill.id <<<"$rec")" == skill_* ]]
	[ "$(jq -r .version <<<"$rec")" = "$(jq -r .skill.latest_version_id <<<"$rec")" ]
	# The skill is the API's, unchanged.
	json_eq "$(jq -c .skill <<<"$rec")" "$(api "$EMU_URL/v1/skills/$(jq -r .skill.id <<<"$rec")")"
	# One request, one part per file, each named with the directory.
	posts >log
	[ "$(wc -l <log)" -eq 1 ]
	[ "$(jq -r .path log)" = /v1/skills ]
	[ "$(jq -r '.multipart[] | [.name, .filename, .size] | join(" ")' log)" = "files[] mylib/SKILL.md $(stat -c %s mylib/SKILL.md)
files[] mylib/pkg/__init__.py 20
files[] mylib/pkg/sub/mod.py 6" ]
	[ "$(jq -r '.headers | has("anthropic-beta")' log)" = false ]
	# The version holds SKILL.md's name and description.
	api "$EMU_URL/v1/skills/$(jq -r .skill.id <<<"$rec")/versions" >v
	[ "$(jq -r '.data[] | [.id, .name, .description] | join(" ")' v)" = \
		"$(jq -r .version <<<"$rec") mylib A tiny vendored package." ]
}

@test "run again: unchanged sends nothing, changed makes a new version of the same skill" {
	mkskill tool-kit
	run -0 ca-skills tool-kit
	first=$output
	emu_reset
	run --separate-stderr ca-skills -v tool-kit
	[ "$status" -eq 0 ]
	json_eq "$output" "$first"
	[[ "$stderr" == *"tool-kit: unchanged since version $(jq -r .version <<<"$first"); nothing sent"* ]]
	[ -z "$(emu_log)" ]
	# __pycache__ is made by running the code: not content.
	mkdir tool-kit/pkg/__pycache__ && echo x >tool-kit/pkg/__pycache__/a.pyc
	run -0 ca-skills tool-kit
	[ -z "$(emu_log)" ]
	echo 'def hi(): return 43' >tool-kit/pkg/__init__.py
	run -0 ca-skills tool-kit
	second=$output
	sid=$(jq -r .skill.id <<<"$first")
	[ "$(jq -r .skill.id <<<"$second")" = "$sid" ]
	[ "$(jq -r .version <<<"$second")" != "$(jq -r .version <<<"$first")" ]
	[ "$(jq -r .digest <<<"$second")" != "$(jq -r .digest <<<"$first")" ]
	[ "$(jq -r .skill.latest_version_id <<<"$second")" = "$(jq -r .version <<<"$second")" ]
	[ "$(posts | jq -r .path)" = "/v1/skills/$sid/versions" ]
	[ "$(posts | jq -r '.multipart[].filename' | tr '\n' ' ')" = "tool-kit/SKILL.md tool-kit/pkg/__init__.py " ]
	# --versions lists both, newest first.
	run -0 ca-skills --versions "$sid"
	[ "$(jq -r .type <<<"$output" | sort -u)" = skill_version ]
	[ "$(jq -r .skill_version.id <<<"$output" | tr '\n' ' ')" = \
		"$(jq -r .version <<<"$second") $(jq -r .version <<<"$first") " ]
	# -n neither reads nor writes the cache: a new skill.
	emu_reset
	run -0 ca-skills -n tool-kit
	[ "$(posts | jq -r .path)" = /v1/skills ]
	[ "$(jq -r .skill.id <<<"$output")" != "$sid" ]
}

@test "a skill the server no longer has: a new one, not an error" {
	mkskill gone
	run -0 ca-skills gone
	sid=$(jq -r .skill.id <<<"$output")
	api -X DELETE "$EMU_URL/v1/skills/$sid" >/dev/null
	echo '# changed' >>gone/SKILL.md
	emu_reset
	run --separate-stderr ca-skills gone
	[ "$status" -eq 0 ]
	[ "$(jq -r .skill.id <<<"$output")" != "$sid" ]
	[ "$(posts | jq -r .status | tr '\n' ' ')" = "404 200 " ]
}

# bad DIR EXPECTED: refused before anything is sent, the rule named.
bad() {
	emu_reset
	run --separate-stderr ca-skills "$1"
	[ "$status" -eq 1 ] || { echo "status $status for $1" >&2; return 1; }
	[[ "$stderr" == "ca-skills: $1: skill_error: $2"* ]] ||
		{ echo "stderr: $stderr" >&2; return 1; }
	[ "$(jq -r '[.type, .path, .status, .error.type] | join(" ")' <<<"$output")" = "error $1  skill_error" ]
	[ -z "$(emu_log)" ]
}

@test "a directory that breaks a rule is refused before anything is sent, the rule and the file named" {
	mkdir nomd && bad nomd "SKILL.md: no such regular file"
	mkskill nofm && sed -i 1d nofm/SKILL.md && bad nofm "SKILL.md: does not start with YAML frontmatter"
	mkskill open && sed -i '4d' open/SKILL.md && bad open "SKILL.md: the frontmatter has no closing"
	mkskill upper Upper && bad upper 'SKILL.md: name "Upper": at most 64 lowercase'
	mkskill my-claude && bad my-claude 'SKILL.md: name "my-claude" holds a reserved word'
	mkskill nodesc && sed -i /description/d nodesc/SKILL.md && bad nodesc "SKILL.md: the frontmatter has no description"
	mkskill xml && sed -i 's/^description:.*/description: use <b>me<\/b>/' xml/SKILL.md &&
		bad xml "SKILL.md: the description holds an XML tag"
	mkskill long && sed -i "s/^description:.*/description: $(printf 'x%.0s' $(seq 1025))/" long/SKILL.md &&
		bad long "SKILL.md: the description is longer than 1024 characters"
	mkskill other-name something-else && bad other-name 'the directory "other-name" is not named like the skill'
	mkskill esc && ln -s /etc/passwd esc/pkg/passwd && bad esc "pkg/passwd: a symbolic link leading out of the directory"
	mkskill dlink && ln -s pkg dlink/alias && bad dlink "alias: a symbolic link to something other than a regular file"
	mkskill fifo && mkfifo fifo/pkg/pipe && bad fifo "pkg/pipe: a special file"
	mkskill quote && touch 'quote/pkg/a"b' && bad quote "pkg/a\"b: a file name with a control character"
	mkskill big && truncate -s 30000001 big/pkg/blob && bad big "$((30000001 + 20 + $(stat -c %s big/SKILL.md))) bytes in all, over the limit of 30000000 bytes"
	bad nosuch "No such file or directory"
}

# mkzip ZIP DIR [stored|deflated] [NAME=TEXT|NAME@LINK|NAME+SIZE ...]: DIR's
# files zipped under DIR/ (SKILL.md stored or deflated), plus extra
# entries: a file with text, a symbolic link, a file of SIZE zero bytes.
mkzip() {
	python3 - "$@" <<'PY'
import os, stat, sys, zipfile
zp, d, how, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(d):
        for f in sorted(files):
            p = os.path.join(root, f)
            kind = zipfile.ZIP_STORED if f == "SKILL.md" and how == "stored" else zipfile.ZIP_DEFLATED
            z.write(p, p, compress_type=kind)
    for e in extra:
        if "@" in e:
            n, t = e.split("@", 1)
            i = zipfile.ZipInfo(n)
            i.create_system = 3
            i.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(i, t)
        elif "+" in e:
            n, size = e.split("+", 1)
            z.writestr(n, b"\0" * int(size))
        else:
            n, t = e.split("=", 1)
            z.writestr(n, t)
PY
}

@test "a zip of the directory becomes a skill: one files[] part, the zip; unchanged sends nothing" {
	mkskill ziplib
	mkzip ziplib.zip ziplib deflated
	python3 -c 'import sys, zipfile; assert zipfile.ZipFile(sys.argv[1]).getinfo("ziplib/SKILL.md").compress_type == 8' ziplib.zip
	run --separate-stderr ca-skills ziplib.zip
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq -r '[.type, .path, .name] | join(" ")' <<<"$output")" = "skill ziplib.zip ziplib" ]
	[ "$(jq -r .digest <<<"$output")" = "$(sha256sum ziplib.zip | cut -c1-64)" ]
	posts >log
	[ "$(wc -l <log)" -eq 1 ]
	[ "$(jq -r '.multipart[] | [.name, .filename, .content_type, .size] | join(" ")' log)" = \
		"files[] ziplib.zip application/zip $(stat -c %s ziplib.zip)" ]
	# The server unpacked it: the version holds SKILL.md's name.
	sid=$(jq -r .skill.id <<<"$output")
	[ "$(api "$EMU_URL/v1/skills/$sid/versions" | jq -r '.data[] | .name + " " + .description')" = \
		"ziplib A tiny vendored package." ]
	emu_reset
	run --separate-stderr ca-skills ziplib.zip
	[ "$status" -eq 0 ]
	[ "$(jq -r .skill.id <<<"$output")" = "$sid" ]
	[ -z "$(emu_log)" ]
	# A changed zip: a new version of the same skill.
	mkzip ziplib.zip ziplib stored ziplib/pkg/more.py='x = 2'
	run --separate-stderr ca-skills ziplib.zip
	[ "$status" -eq 0 ]
	[ "$(jq -r .skill.id <<<"$output")" = "$sid" ]
	[ "$(posts | jq -r .path)" = "/v1/skills/$sid/versions" ]
}

@test "a zip that breaks a rule is refused before anything is sent, the rule and the entry named" {
	mkskill zz
	mkzip evil.zip zz stored zz/../evil=x && bad evil.zip 'zz/../evil: a path with a ".."'
	mkzip abs.zip zz stored /etc/x=x && bad abs.zip '/etc/x: an absolute path'
	mkzip bs.zip zz stored 'zz\x=x' && bad bs.zip 'zz\x: an absolute path, or a name with a backslash'
	mkzip link.zip zz stored zz/pkg/passwd@/etc/passwd && bad link.zip "zz/pkg/passwd: a symbolic link"
	mkzip two.zip zz stored other/x=x && bad two.zip 'other/x: a second top-level directory (all files must be under "zz")'
	mkzip loose.zip zz stored x=x && bad loose.zip 'x: not in the zip'"'"'s one top-level directory'
	mkdir nomd && echo x >nomd/a && mkzip nomd.zip nomd stored && bad nomd.zip "nomd/SKILL.md: no such file"
	mkskill badfm && sed -i 1d badfm/SKILL.md && mkzip badfm.zip badfm stored &&
		bad badfm.zip "SKILL.md: does not start with YAML frontmatter"
	mkzip badfm8.zip badfm deflated && bad badfm8.zip "SKILL.md: does not start with YAML frontmatter"
	mkskill xml && sed -i 's/^description:.*/description: use <b>me<\/b>/' xml/SKILL.md &&
		mkzip xml.zip xml deflated && bad xml.zip "SKILL.md: the description holds an XML tag"
	mkskill other-name something-else && mkzip other.zip other-name deflated &&
		bad other.zip 'the directory "other-name" is not named like the skill'
	mkzip big.zip zz deflated zz/blob+30000001 && [ "$(stat -c %s big.zip)" -lt 100000 ] &&
		bad big.zip "$((30000001 + 20 + $(stat -c %s zz/SKILL.md))) bytes in all, uncompressed, over the limit of 30000000 bytes"
	head -c 100 /dev/urandom >junk.zip && bad junk.zip "not a zip file"
	python3 - <<'PY' && bad z64.zip "a zip64 archive: not supported"
import struct
eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
open("z64.zip", "wb").write(eocd)
PY
	python3 - <<'PY' && bad split.zip "a zip archive split over disks"
import struct
open("split.zip", "wb").write(struct.pack("<IHHHHIIH", 0x06054b50, 1, 1, 0, 0, 0, 0, 0))
PY
}

@test "the emulator unpacks a zip and holds it to the directory rules" {
	mkskill zz
	mkzip two.zip zz stored other/x=x
	mkzip link.zip zz stored zz/pkg/passwd@/etc/passwd
	mkzip evil.zip zz stored zz/../evil=x
	mkdir nomd && echo x >nomd/a && mkzip nomd.zip nomd stored
	mkzip big.zip zz deflated zz/blob+30000001
	for z in two link evil nomd big; do
		curl -s "${CA_API_HEADERS[@]}" -o out -w '%{http_code}\n' \
			-F "files[]=@$z.zip;filename=$z.zip;type=application/zip" "$EMU_URL/v1/skills" >>codes
		jq -r .error.message out >>msgs
	done
	[ "$(tr '\n' ' ' <codes)" = "400 400 400 400 413 " ]
	grep -q 'All files must be in the same top-level directory' msgs
	grep -q 'symbolic links and special files' msgs
	grep -q 'invalid file path: zz/../evil' msgs
	grep -q 'SKILL.md file must be at the root' msgs
	grep -q 'Skill too large' msgs
	# The zip is the only part, and a good one makes a skill.
	mkzip zz.zip zz deflated
	[ "$(curl -s "${CA_API_HEADERS[@]}" -F 'files[]=@zz.zip;type=application/zip' \
		-F 'files[]=@zz/SKILL.md;filename=zz/SKILL.md' "$EMU_URL/v1/skills" | jq -r .error.message)" = \
		"a zip must be the only file" ]
	sid=$(curl -s "${CA_API_HEADERS[@]}" -F 'files[]=@zz.zip;type=application/zip' "$EMU_URL/v1/skills" | jq -r .id)
	[ "$(api "$EMU_URL/v1/skills/$sid/versions" | jq -r '.data[].name')" = zz ]
}

@test "the name matches the directory case- and underscore-insensitively; a link inside is sent as a file" {
	mkskill My_Lib my-lib
	ln -s ../SKILL.md My_Lib/pkg/copy.md
	md=$(stat -c %s My_Lib/SKILL.md)
	run -0 ca-skills My_Lib
	[ "$(jq -r .name <<<"$output")" = my-lib ]
	[ "$(posts | jq -r '.multipart[] | "\(.filename) \(.size)"' | tr '\n' ' ')" = \
		"My_Lib/SKILL.md $md My_Lib/pkg/__init__.py 20 My_Lib/pkg/copy.md $md " ]
}

@test "one bad directory among good ones: the others are made, exit 1" {
	mkskill good-one
	mkdir bad-one
	run --separate-stderr ca-skills bad-one good-one
	[ "$status" -eq 1 ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "error skill " ]
	[ "$(jq -r 'select(.type == "skill") | .path' <<<"$output")" = good-one ]
}

@test "a failed create is an error record; nothing is cached, the next run sends again" {
	mkskill failing
	emu_fault '[{"method":"POST","path":"/v1/skills","status":400,"body":{"type":"error","error":{"type":"invalid_request_error","message":"bad \u001b[31mthing"}}}]'
	run --separate-stderr ca-skills failing
	[ "$status" -eq 1 ]
	[ "$(jq -r '[.type, .path, .status, .error.type, .error.message] | join(" ")' <<<"$output")" = \
		$'error failing 400 invalid_request_error bad \e[31mthing' ]
	# The server's text is sanitised on the terminal.
	[[ "$stderr" == "ca-skills: failing: 400 invalid_request_error: bad \\x1b[31mthing (request-id req_"* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[[ "$stderr" != *$'\e'* ]]
	emu_reset
	run -0 ca-skills failing
	[ "$(jq -r .type <<<"$output")" = skill ]
	[ "$(posts | wc -l)" -eq 1 ]
}

@test "a half-uploaded skill is never recorded: connection reset mid-body, then temporary failure" {
	mkskill half
	dd if=/dev/zero of=half/pkg/data bs=1024 count=512 2>/dev/null
	emu_fault '[{"method":"POST","path":"/v1/skills","reset":"before_headers","read_body_bytes":65536,"times":3}]'
	run --separate-stderr ca-skills half
	[ "$status" -eq 75 ]
	[ "$(jq -r '[.type, .path, .status] | join(" ")' <<<"$output")" = "error half " ]
	[ "$(emu_log /v1/skills | wc -l)" -eq 3 ]
	[ -z "$(api "$EMU_URL/v1/skills?source=custom&limit=100" | jq -r '.data[] | select(.display_name == "half") | .id')" ]
	[ -z "$(ls "$XDG_CACHE_HOME/ca/skills" 2>/dev/null | grep -- '-half-')" ]
	# A retry after one reset sends the whole body again.
	emu_fault '[{"method":"POST","path":"/v1/skills","reset":"before_headers","read_body_bytes":65536}]'
	run -0 ca-skills half
	[ "$(jq -r .type <<<"$output")" = skill ]
	[ "$(emu_log /v1/skills | jq -r .status | tail -1)" = 200 ]
	[ "$(emu_log /v1/skills | jq -r '.multipart[]?.size' | tail -3 | tr '\n' ' ')" = "$(stat -c %s half/SKILL.md) 20 524288 " ]
}

@test "-l lists custom skills across pages; --source anthropic" {
	for n in list-a list-b list-c; do mkskill "$n"; done
	run -0 ca-skills list-a list-b list-c
	made=$(jq -r .skill.id <<<"$output")
	n=$(api "$EMU_URL/v1/skills?source=custom&limit=100" | jq '.data | length')
	emu_reset
	run --separate-stderr ca-skills -l --limit 2
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output" | sort -u)" = skill ]
	for id in $made; do grep -q "\"id\":\"$id\"" <<<"$output"; done
	[ "$(jq -r .skill.source.type <<<"$output" | sort -u)" = custom ]
	[ "${#lines[@]}" -eq "$n" ]
	[ "$(emu_log /v1/skills | wc -l)" -eq $(((n + 1) / 2)) ]
	[ "$(emu_log /v1/skills | jq -c .query | head -1)" = '{"limit":["2"],"source":["custom"]}' ]
	run -0 ca-skills -l --source anthropic
	[ "$(jq -r .skill.id <<<"$output" | tr '\n' ' ')" = "pptx xlsx docx pdf " ]
}

@test "-l stops at a cursor the server repeats" {
	emu_fault '[{"method":"GET","path":"/v1/skills","status":200,"body":{"data":[],"next_page":"page_x"},"times":2}]'
	run --separate-stderr ca-skills -l
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-skills: list: the server repeats the cursor; stopping" ]
	[ "$(emu_log /v1/skills | wc -l)" -eq 2 ]
}

@test "-d deletes after the input ends: versions first, then the skill; the cache forgets it" {
	mkskill doomed
	run -0 ca-skills doomed
	echo 'def hi(): return 1' >doomed/pkg/__init__.py
	run -0 ca-skills doomed
	sid=$(jq -r .skill.id <<<"$output")
	{ echo "$output"; echo '{"type":"note","n":1}'; } >in
	emu_reset
	run --separate-stderr ca-skills -d <in
	[ "$status" -eq 0 ]
	# Everything passes through first, in order; then the deletions.
	[ "$(sed -n 1,2p <<<"$output")" = "$(cat in)" ]
	[ "$(sed -n '3,$p' <<<"$output" | jq -r '[.type, .id, .skill_id // "-"] | join(" ")' | awk '{print $1, substr($2, 1, 6), $3}' | tr '\n' ' ')" = \
		"deleted skver_ $sid deleted skver_ $sid deleted skill_ - " ]
	[ "$(emu_log | jq -r 'select(.method == "DELETE") | .path' | sed "s|$sid|ID|; s|skver_.*|V|" | tr '\n' ' ')" = \
		"/v1/skills/ID/versions/V /v1/skills/ID/versions/V /v1/skills/ID " ]
	refute api "$EMU_URL/v1/skills/$sid"
	# The cache forgot it: the next run makes a new skill.
	emu_reset
	run -0 ca-skills doomed
	[ "$(posts | jq -r .path)" = /v1/skills ]
}

@test "-d on a skill_version record deletes only that version" {
	mkskill versioned
	run -0 ca-skills versioned
	v1=$(jq -r .version <<<"$output")
	sid=$(jq -r .skill.id <<<"$output")
	echo '# two' >>versioned/SKILL.md
	run -0 ca-skills versioned
	v2=$(jq -r .version <<<"$output")
	run -0 bash -c "ca-skills --versions $sid | grep $v1 | ca-skills -d"
	[ "$(tail -1 <<<"$output")" = "{\"type\":\"deleted\",\"id\":\"$v1\",\"skill_id\":\"$sid\"}" ]
	[ "$(api "$EMU_URL/v1/skills/$sid/versions" | jq -r '.data[].id')" = "$v2" ]
}

@test "-d deletes nothing after an error record, unless -f" {
	mkskill kept
	run -0 ca-skills kept
	{ echo "$output"; echo '{"type":"error","custom_id":"r1","status":400,"error":{"type":"invalid_request_error","message":"x"}}'; } >in
	emu_reset
	run --separate-stderr ca-skills -d <in
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-skills: an error record came through; deleting nothing (-f deletes anyway)" ]
	[ -z "$(emu_log | jq -r 'select(.method == "DELETE")')" ]
	run --separate-stderr ca-skills -d -f <in
	[ "$status" -eq 1 ]
	[ "$(grep -c '"type":"deleted"' <<<"$output")" -eq 2 ]
	# An Anthropic skill cannot be deleted.
	run --separate-stderr bash -c 'ca-skills -l --source anthropic | head -1 | ca-skills -d'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: skill record without a custom skill's id, skipped"* ]]
}

@test "ca-request: skill records on stdin go into container.skills at their version" {
	mkskill req-a
	mkskill req-b
	run -0 ca-skills req-a req-b
	skills=$output
	run --separate-stderr ca-request -i r1 --skill xlsx hello <<<"$skills"
	[ "$status" -eq 0 ]
	# The records pass through, then the request.
	[ "$(sed -n 1,2p <<<"$output")" = "$skills" ]
	json_eq "$(tail -1 <<<"$output" | jq -c .params.container)" "$(jq -sc '{skills: ([{type: "anthropic", skill_id: "xlsx", version: "latest"}] + map({type: "custom", skill_id: .skill.id, version: .version}))}' <<<"$skills")"
	# A listed skill (no version in the record): its latest version.
	run -0 ca-request hello <<<"$(ca-skills -l | head -1)"
	[ "$(tail -1 <<<"$output" | jq -r '.params.container.skills[0].version')" != latest ]
	# A record naming no usable id: refused, the line named.
	run --separate-stderr ca-request hello <<<'{"type":"skill","skill":{"id":"skill_x\u001b[2J"}}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ca-request: <stdin>:1: skill record without a skill.id"* ]]
	[[ "$stderr" != *$'\e'* ]]
}

@test "ca-request --skill custom:NAME resolves the name through ca-skills' cache" {
	mkskill by-name
	run -0 ca-skills by-name
	rec=$output
	run -0 ca-request -n --skill custom:by-name hello
	json_eq "$(jq -c .params.container <<<"$output")" \
		"{\"skills\":[{\"type\":\"custom\",\"skill_id\":\"$(jq -r .skill.id <<<"$rec")\",\"version\":\"$(jq -r .version <<<"$rec")\"}]}"
	run -0 ca-request -n --skill custom:by-name@latest hello
	[ "$(jq -r '.params.container.skills[0].version' <<<"$output")" = latest ]
	run --separate-stderr ca-request -n --skill custom:no-such hello
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ca-request: --skill custom:no-such: not a skill id, and no skill of that name in the cache"* ]]
	# Another server has other skills.
	run --separate-stderr env ANTHROPIC_BASE_URL=http://127.0.0.1:1 ca-request -n --skill custom:by-name hello
	[ "$status" -eq 2 ]
}

@test "additional Python packages: the container imports the skill's vendored package" {
	cp -r "$CA_ROOT/demo/skills/csvstats" .
	cp "$CA_ROOT/demo/sales.csv" .
	run --separate-stderr bash -c 'set -o pipefail; { ca-skills csvstats; ca-upload sales.csv; } | ca-request "$(printf "%s\n" "Use csvstats:" "\`\`\`python" "import os, sys" "sys.path.insert(0, os.path.join(os.environ.get(\"SKILLS_DIR\", \"/skills\"), \"csvstats\"))" "import csvstats" "s = csvstats.summary(\"sales.csv\", \"revenue\")" "print(\"count\", s[\"count\"], \"max\", int(s[\"max\"]))" "\`\`\`")" | ca-exec'
	[ "$status" -eq 0 ]
	want=$(python3 -c 'import csv; xs=[float(r["revenue"]) for r in csv.DictReader(open("sales.csv"))]; print("count", len(xs), "max", int(max(xs)))')
	[ "$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' <<<"$output")" = "$want" ]
	# The request mounted the skill at the version the record named.
	sk=$(jq -c 'select(.type == "skill")' <<<"$output")
	json_eq "$(emu_log /v1/messages | jq -c '.body.container.skills')" \
		"$(jq -c '[{type: "custom", skill_id: .skill.id, version: .version}]' <<<"$sk")"
	json_eq "$(jq -c 'select(.type == "response") | .message.container.skills' <<<"$output")" \
		"$(jq -c '[{skill_id: .skill.id, type: "custom", version: .version}]' <<<"$sk")"
}

@test "a zip of a skill: the container imports its vendored package" {
	cp -r "$CA_ROOT/demo/skills/csvstats" .
	cp "$CA_ROOT/demo/sales.csv" .
	mkzip csvstats.zip csvstats deflated
	rm -r csvstats
	run --separate-stderr bash -c 'set -o pipefail; { ca-skills -n csvstats.zip; ca-upload sales.csv; } | ca-request "$(printf "%s\n" "Use csvstats:" "\`\`\`python" "import os, sys" "sys.path.insert(0, os.path.join(os.environ.get(\"SKILLS_DIR\", \"/skills\"), \"csvstats\"))" "import csvstats" "s = csvstats.summary(\"sales.csv\", \"revenue\")" "print(\"count\", s[\"count\"], \"max\", int(s[\"max\"]))" "\`\`\`")" | ca-exec'
	[ "$status" -eq 0 ]
	want=$(python3 -c 'import csv; xs=[float(r["revenue"]) for r in csv.DictReader(open("sales.csv"))]; print("count", len(xs), "max", int(max(xs)))')
	[ "$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "code_execution_tool_result") | .content.stdout' <<<"$output")" = "$want" ]
	[ "$(emu_log /v1/skills | jq -r '.multipart[] | .filename')" = csvstats.zip ]
}

@test "the emulator refuses a request naming a skill or a version that does not exist" {
	mkskill real-one
	run -0 ca-skills real-one
	sid=$(jq -r .skill.id <<<"$output")
	run --separate-stderr bash -c 'ca-request -n --skill custom:skill_nosuch hi | ca-exec'
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "error") | "\(.status) \(.error.message)"' <<<"$output")" = \
		"404 container.skills.0.skill_id: skill skill_nosuch not found" ]
	run --separate-stderr bash -c "ca-request -n --skill custom:$sid@skver_nosuch hi | ca-exec"
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "error") | .status' <<<"$output")" = 404 ]
}

@test "the emulator's Skills API checks what it is sent" {
	mkskill emu-skill
	up() { curl -s "${CA_API_HEADERS[@]}" "$@" "$EMU_URL/v1/skills"; }
	r=$(up -F 'files[]=@emu-skill/SKILL.md;filename=emu-skill/SKILL.md' -F 'files[]=@emu-skill/pkg/__init__.py;filename=other/x.py')
	[ "$(jq -r .error.message <<<"$r")" = "All files must be in the same top-level directory" ]
	r=$(up -F 'files[]=@emu-skill/SKILL.md;filename=emu-skill/../SKILL.md')
	[ "$(jq -r .error.message <<<"$r")" = "invalid file path: emu-skill/../SKILL.md" ]
	r=$(up -F 'files[]=@emu-skill/pkg/__init__.py;filename=emu-skill/x.py')
	[ "$(jq -r .error.message <<<"$r")" = "SKILL.md file must be at the root of the top-level directory" ]
	r=$(up -F 'files[]=@emu-skill/SKILL.md;filename=emu-skill/SKILL.md' -F 'display_name=Emu Skill')
	[ "$(jq -r .display_name <<<"$r")" = "Emu Skill" ]
	sid=$(jq -r .id <<<"$r")
	# The beta-era API refused to delete a skill that had versions.
	r=$(curl -s -X DELETE "${CA_API_HEADERS[@]}" -H 'anthropic-beta: skills-2025-10-02' "$EMU_URL/v1/skills/$sid")
	[ "$(jq -r .error.type <<<"$r")" = invalid_request_error ]
	# GA deletes it with its versions.
	[ "$(api -X DELETE "$EMU_URL/v1/skills/$sid" | jq -c .)" = "{\"id\":\"$sid\",\"type\":\"skill_deleted\"}" ]
}

@test "a hostile id from the server: sanitised on stderr, escaped in paths, refused by ca-request" {
	mkskill hostile
	emu_fault '[{"method":"POST","path":"/v1/skills","status":200,"body":{"type":"skill","id":"skill_\u001b[2J/../x","latest_version_id":"skver_1","source":{"type":"custom"}}}]'
	run --separate-stderr ca-skills -v hostile
	[ "$status" -eq 0 ]
	[ "$(jq -r .skill.id <<<"$output")" = $'skill_\e[2J/../x' ]
	[[ "$stderr" != *$'\e'* ]]
	rec=$output
	# By name, from the cache: refused, as from the command line.
	run --separate-stderr ca-request -n --skill custom:hostile hi
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"the cache's entry holds no usable skill id and version"* ]]
	run --separate-stderr ca-request hi <<<"$rec"
	[ "$status" -eq 1 ]
	[[ "$stderr" != *$'\e'* ]]
	# Deleting it: one path segment, percent-escaped.
	emu_reset
	run --separate-stderr ca-skills -d <<<"$rec"
	[ "$status" -eq 1 ]
	[[ "$stderr" != *$'\e'* ]]
	[ "$(emu_log | jq -r .path | head -1)" = '/v1/skills/skill_%1B%5B2J%2F..%2Fx/versions' ]
}

@test "a skill used for one run is deleted once the run is done: the request goes first" {
	mkskill one-run
	run --separate-stderr bash -c "ca-skills one-run | ca-request 'hi' | ca-exec | ca-skills -d"
	[ "$status" -eq 0 ]
	[ "$(emu_log | jq -r '.method + " " + (.path | sub("skill_[^/]*"; "ID") | sub("skver_.*"; "V")) + " " + (.status | tostring)' | tr '\n' '|')" = \
		"POST /v1/skills 200|POST /v1/messages 200|GET /v1/skills/ID/versions 200|DELETE /v1/skills/ID/versions/V 200|DELETE /v1/skills/ID 200|" ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "skill request response deleted deleted " ]
}
