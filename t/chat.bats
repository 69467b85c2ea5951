#!/usr/bin/env bats
# ca-chat: a conversation from the filters, against the emulator.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	emu_start
}

teardown_file() {
	emu_stop
}

setup() {
	ca_test_setup
	# No real rlwrap, unless a test puts a fake one on PATH.
	export CA_CHAT_RLWRAP=1
	unset XDG_STATE_HOME
}

# on_pty LOG CMD ARG...: run CMD on a new pty of 80x24 (rlwrap wants a
# width) and follow the script on stdin, one action a line:
#   send TEXT    write TEXT (\r, \x03 for Ctrl-C, \x04, \x1b understood)
#   expect RE    wait until the output since the last expect matches RE
#   exit N       wait for CMD to end; fail unless its status is N
# All CMD wrote goes to LOG.  A wait gives up after 60 s: that is a
# hang, not a measure.
on_pty() {
	cat >"$BATS_TEST_TMPDIR/on_pty.py" <<-'EOT'
	import os, pty, re, select, sys, time, fcntl, termios, struct

	log = open(sys.argv[1], "wb")
	pid, fd = pty.fork()
	if pid == 0:
	    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
	    os.execvp(sys.argv[2], sys.argv[2:])
	seen, done = b"", False

	def pump(deadline):
	    global seen, done
	    r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
	    if not r:
	        return
	    try:
	        b = os.read(fd, 4096)
	    except OSError:
	        b = b""
	    if not b:
	        done = True
	    log.write(b)
	    log.flush()
	    seen += b

	for line in sys.stdin:
	    act, _, arg = line.rstrip("\n").partition(" ")
	    deadline = time.time() + 60
	    if act == "send":
	        os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
	    elif act == "expect":
	        rx = re.compile(arg.encode(), re.S)
	        while not rx.search(seen):
	            if done or time.time() > deadline:
	                sys.exit("on_pty: no %r in %r" % (arg, seen[-600:]))
	            pump(deadline)
	        seen = seen[rx.search(seen).end():]
	    elif act == "exit":
	        while not done and time.time() < deadline:
	            pump(deadline)
	        rc = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
	        if rc != int(arg):
	            sys.exit("on_pty: exit status %d, not %s" % (rc, arg))
	EOT
	python3 "$BATS_TEST_TMPDIR/on_pty.py" "$@"
}

# The user messages' texts of the request whose last prompt was $1, as
# a JSON array.
history_of() {
	emu_log /v1/messages | jq -c --arg p "$1" '[.body.messages[] |
		select(.role == "user") | .content |
		if type == "string" then . else
			[.[] | select(.type == "text") | .text] | join("") end] |
		select(last == $p)'
}

# The texts of the user messages of each request the emulator received,
# one request a line: "first|second|...".
sent_prompts() {
	emu_log /v1/messages | jq -r '[.body.messages[] | select(.role == "user") |
		(.content | if type == "string" then . else
			[.[] | select(.type == "text") | .text] | join("") end)] | join("|")'
}

@test "ca-chat: --help prints the usage on stdout and exits 0" {
	run --separate-stderr ca-chat --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == "usage: ca-chat "* ]]
	[[ "$output" == *"--fresh-container"* ]]
}

@test "ca-chat: --version prints the version of the toolkit" {
	run --separate-stderr ca-chat --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ca-chat\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ "$output" = "ca-chat $(cat "$CA_ROOT/VERSION")" ]
}

@test "ca-chat: a failed turn does not end the conversation" {
	# The first turn is overloaded for every attempt ca-exec makes.
	emu_fault '[{"path":"/v1/messages","status":529,"times":3}]'
	run --separate-stderr ca-chat -t s.ndjson <<<$'one\ntwo\nthree'
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"ca-chat: that turn failed for now (a temporary error); the next prompt continues from the last answer"* ]]
	[[ "$stderr" == *"skipped the failed turn r1"*"(no response); continuing from the start"* ]]
	# Three attempts at "one", then "two" from the start, then "three"
	# after the answer to "two".
	[ "$(sent_prompts | tail -2 | tr '\n' '/')" = "two/two|three/" ]
	[ "$(grep -c '"type":"response"' s.ndjson)" -eq 2 ]
	# Run again on the same transcript: it resumes after "three".
	run --separate-stderr ca-chat -t s.ndjson <<<'four'
	[ "$status" -eq 0 ]
	[ "$(sent_prompts | tail -1)" = "two|three|four" ]
}

@test "ca-chat: a failure in the middle is skipped; the exit status follows the rule" {
	run --separate-stderr ca-chat -t s.ndjson <<<'one'
	[ "$status" -eq 0 ]
	# A permanent failure (400), then a temporary one: 1 wins.
	emu_fault '[{"path":"/v1/messages","status":400,"times":1},{"path":"/v1/messages","status":529,"times":3}]'
	run --separate-stderr ca-chat -t s.ndjson <<<$'two\nthree\nfour'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ca-chat: that turn failed; the next prompt continues from the last answer"* ]]
	[[ "$stderr" =~ skipped\ the\ failed\ turns\ r2[^\ ]*,\ r3[^\ ]*\ \(no\ response\)\;\ continuing\ from\ r1 ]]
	[ "$(sent_prompts | tail -1)" = "one|four" ]
	# The only turn failing for now is 75, not 0.
	emu_fault '[{"path":"/v1/messages","status":529,"times":3}]'
	run --separate-stderr ca-chat -t other.ndjson <<<'hi'
	[ "$status" -eq 75 ]
}

@test "ca-chat: --fresh-container starts anew when the container expired" {
	run ca-chat -t s.ndjson <<<'one'
	[ "$status" -eq 0 ]
	sed -i 's/"expires_at":"[^"]*"/"expires_at":"2020-01-01T00:00:00Z"/g' s.ndjson
	run --separate-stderr ca-chat -t s.ndjson <<<'two'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"use --fresh-container to start a new one"*"ca-chat: that prompt was not sent"* ]]
	run --separate-stderr ca-chat --fresh-container -t s.ndjson <<<'three'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"starting a fresh one"* ]]
	[ "$(emu_log /v1/messages | tail -1 | jq 'has("body") and (.body | has("container") | not)')" = true ]
	[ "$(sent_prompts | tail -1)" = "one|three" ]
}

@test "ca-chat: lines between two \"\"\" lines are one prompt" {
	run --separate-stderr ca-chat -t s.ndjson <<<$'first\n"""\nline a\n\nline b\n"""\nlast'
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 3 ]
	json_eq "$(emu_log /v1/messages | tail -1 | jq -c '[.body.messages[] | select(.role == "user") | .content[0].text]')" \
		'["first","line a\n\nline b","last"]'
}

@test "ca-chat: a last prompt without a newline is a turn, its heading on its own line" {
	command -v script >/dev/null || skip "script(1) is not installed"
	printf 'hi\004\004' | NO_COLOR=1 script -qec "ca-chat -t s.ndjson" /dev/null >tty.out
	tr -d '\r' <tty.out | grep -qx '━━ turn r1[^ ]* ━━'
	[ "$(sent_prompts)" = hi ]
}

@test "ca-chat: its temporary files live in one private directory" {
	mkdir tmp bin
	# A ca-exec that lists ca-chat's temporaries while a turn runs.
	cat >bin/ca-exec <<-EOT
	#!/bin/sh
	find "\$TMPDIR" -mindepth 1 -maxdepth 1 -printf '%f %m %y\n' >>"$PWD/during"
	exec "$CA_ROOT/ca-exec" "\$@"
	EOT
	chmod +x bin/ca-exec
	echo 'a,b' >data.csv
	PATH="$PWD/bin:$PATH" TMPDIR="$PWD/tmp" run ca-chat -t s.ndjson data.csv <<<'hi'
	[ "$status" -eq 0 ]
	[ "$(wc -l <during)" -eq 1 ]
	[[ "$(cat during)" =~ ^ca-chat\.[A-Za-z0-9]{6}\ 700\ d$ ]]
	[ -z "$(ls tmp)" ]
}

@test "ca-chat: rlwrap edits the lines of a person at a terminal, when installed" {
	command -v script >/dev/null || skip "script(1) is not installed"
	mkdir bin
	cat >bin/rlwrap <<-EOT
	#!/bin/sh
	printf '%s\n' "\$*" "\$CA_CHAT_RLWRAP" >"$PWD/rlwrap.args"
	EOT
	chmod +x bin/rlwrap
	unset CA_CHAT_RLWRAP
	export TERM=xterm
	PATH="$PWD/bin:$PATH" script -qec "ca-chat -t s.ndjson -m claude-sonnet-4-6 x.csv" /dev/null </dev/null
	[ "$(cat rlwrap.args)" = "-H $HOME/.local/state/ca/chat_history -s 1000 -C ca-chat $CA_ROOT/ca-chat -d ca-chat-files -t s.ndjson -m claude-sonnet-4-6 -- x.csv
1" ]
	# The history file is made, private, before rlwrap writes it.
	[ "$(stat -c %a "$HOME/.local/state/ca/chat_history")" = 600 ]
	# XDG_STATE_HOME moves it; a relative one is ignored.
	XDG_STATE_HOME="$PWD/st" PATH="$PWD/bin:$PATH" script -qec "ca-chat" /dev/null </dev/null
	[[ "$(head -1 rlwrap.args)" == "-H $PWD/st/ca/chat_history -s 1000 "* ]]
	XDG_STATE_HOME=st PATH="$PWD/bin:$PATH" script -qec "ca-chat" /dev/null </dev/null
	[[ "$(head -1 rlwrap.args)" == "-H $HOME/.local/state/ca/chat_history -s 1000 "* ]]
	# Not on a dumb terminal (an editor's shell buffer edits lines).
	rm rlwrap.args
	TERM=dumb PATH="$PWD/bin:$PATH" script -qec "ca-chat" /dev/null </dev/null
	[ ! -e rlwrap.args ]
	# Not from a pipe.
	PATH="$PWD/bin:$PATH" run ca-chat -t s.ndjson <<<''
	[ "$status" -eq 0 ]
	[ ! -e rlwrap.args ]
}

@test "ca-chat: commands are local: /help, /cost, /files, /save never reach the API" {
	echo 'a,b' >data.csv
	run --separate-stderr ca-chat -t s.ndjson data.csv <<<$'/help\n/files\n/cost\n/save copy.ndjson'
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "Commands (never sent to the model):" ]
	for c in /help /cost /files '/save FILE' '/quit, /exit'; do
		[[ "$output" == *$'\n'"  $c "* ]]
	done
	# The upload waiting for the first turn is listed; nothing cost yet.
	[[ "$output" == *$'\nuploaded data.csv \u2192 file_'*$' (4 bytes)\nno turns yet: nothing spent'* ]]
	[ "$stderr" = "ca-chat: line 4: no turns yet: nothing to save" ]
	[ ! -e copy.ndjson ]
	[ -z "$(emu_log /v1/messages)" ]
	# A turn that writes a file, then the commands again.
	run --separate-stderr ca-chat -t s.ndjson data.csv <<-'EOT'
	"""
	```python
	import os
	open(os.path.join(os.environ["OUTPUT_DIR"], "n.txt"), "w").write("42\n")
	```
	"""
	/files
	/cost
	/save copy.ndjson
	/save copy.ndjson
	EOT
	[ "$status" -eq 1 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	[ "$(cat ca-chat-files/n.txt)" = 42 ]
	[[ "$output" != *$'\nfetched'*$'\n\u2501\u2501 turn'* ]]
	id=$(jq -r 'select(.type == "fetched") | .file.id' s.ndjson)
	up=$(jq -r 'select(.type == "file") | .file.id' s.ndjson)
	[[ "$output" == *$'\nuploaded data.csv \u2192 '"$up (4 bytes)"$'\nfetched '"$id"$' \u2192 ca-chat-files/n.txt (3 bytes)\n'* ]]
	# /cost shows ca-render's summary of the transcript, cost and all.
	want=$(ca-render -C never <s.ndjson | grep '^estimated cost: \$[0-9]')
	[ "$(grep -c '^estimated cost' <<<"$output")" -eq 2 ]
	[ "$(grep '^estimated cost' <<<"$output" | tail -1)" = "$want" ]
	[[ "$output" == *$'\nsaved the transcript to copy.ndjson'* ]]
	cmp s.ndjson copy.ndjson
	[ "$stderr" = "ca-chat: line 10: copy.ndjson exists; not overwritten" ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
}

@test "ca-chat: an unknown command is refused, not sent; // sends a /" {
	run --separate-stderr ca-chat -t s.ndjson <<<$'/bogus arg\n/\n//etc/hosts\n"""\n/help\n"""\n/quit\nnever'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ca-chat: line 1: unknown command /bogus; /help lists them
ca-chat: line 2: unknown command /; /help lists them" ]
	# Only the prompt after //, and the """ one: /quit ended it.
	[ "$(sent_prompts | tr '\n' ' ')" = "/etc/hosts /etc/hosts|/help " ]
	# From a pipe, an escape sequence is data like any other (only one
	# typed at a terminal is refused).
	run --separate-stderr ca-chat -t other.ndjson <<<$'a\e[Ab'
	[ "$status" -eq 0 ]
	[ "$(sent_prompts | tail -1)" = $'a\e[Ab' ]
	# Nothing refused is an error for a session that sent nothing else.
	run --separate-stderr ca-chat -t other.ndjson <<<$'/help\n/exit'
	[ "$status" -eq 0 ]
}

@test "ca-chat: without rlwrap, at a terminal, it says once how to get it" {
	mkdir bin
	for c in sh mktemp rm cat tee awk grep tr cp mv mkdir; do
		ln -s "$(command -v "$c")" bin/
	done
	ln -s "$(python3 -c 'import sys; print(sys.executable)')" bin/python3
	unset CA_CHAT_RLWRAP
	export TERM=xterm
	PATH="$PWD/bin:$CA_ROOT" on_pty tty.log "$CA_ROOT/ca-chat" -t s.ndjson <<-'EOT'
	expect ca> 
	send \x1b[A\r
	expect arrow key.*ca> 
	send hi\r
	expect No code to run in "hi".*ca> 
	send \x04
	exit 1
	EOT
	[ "$(grep -c 'install it (Debian: apt-get install rlwrap)' tty.log)" -eq 1 ]
	[ "$(sent_prompts)" = hi ]
}

# Ctrl-C in the middle of a streamed answer: the turn's pipeline dies,
# the session goes on, and the transcript and the next request hold no
# trace of the cancelled turn.
ctrl_c_turn() {
	echo 'a,b' >data.csv
	# Each ca-exec says its pid: none may outlive the session.
	mkdir bin
	cat >bin/ca-exec <<-EOT
	#!/bin/sh
	echo \$\$ >>"$PWD/exec.pids"
	exec "$CA_ROOT/ca-exec" "\$@"
	EOT
	chmod +x bin/ca-exec
	emu_fault '[{"path":"/v1/messages","stream":"stall_after","after":3,"stall_ms":600000,"times":1}]'
	PATH="$PWD/bin:$PATH" on_pty tty.log "$@" <<-'EOT'
	expect ca> 
	send two\r
	expect > two.*No code to run
	send \x03
	expect cancelled; that turn is not in the transcript.*ca> 
	send abc\x03
	expect ca> 
	send three\r
	expect No code to run in "three".*ca> 
	send four\r
	expect No code to run in "four".*ca> 
	send \x04
	exit 0
	EOT
	# No ca-exec is left running from the cancelled turn (a zombie
	# is dead, waiting for a parent that may not reap it here).
	[ "$(wc -l <exec.pids)" -eq 3 ]
	while read -r pid; do
		st=Z
		[ ! -e "/proc/$pid/stat" ] || read -r _ _ st _ <"/proc/$pid/stat"
		[ "$st" = Z ]
	done <exec.pids
	# Two whole turns in the transcript; the upload rode with "three".
	[ "$(jq -r 'select(.type == "request") | .params.messages[-1].content[0].text' s.ndjson | tr '\n' ' ')" = "three four " ]
	[ "$(jq -s 'map(select(.type == "response")) | length' s.ndjson)" -eq 2 ]
	[ "$(jq -s 'map(select(.type == "file")) | length' s.ndjson)" -eq 1 ]
	json_eq "$(history_of three)" '["three"]'
	json_eq "$(history_of four)" '["three","four"]'
	[ "$(history_of three | wc -l)" -eq 1 ]
	[ "$(emu_log /v1/messages | jq -s 'map(select(.body.messages[0].content | tostring | test("container_upload"))) | length')" -ge 1 ]
}

@test "ca-chat: Ctrl-C cancels only the running turn, at a bare terminal" {
	ctrl_c_turn "$CA_ROOT/ca-chat" -t s.ndjson data.csv
}

@test "ca-chat: Ctrl-C cancels only the running turn, under rlwrap" {
	command -v rlwrap >/dev/null || skip "rlwrap is not installed"
	unset CA_CHAT_RLWRAP
	export TERM=xterm
	ctrl_c_turn "$CA_ROOT/ca-chat" -t s.ndjson data.csv
	refute grep -q 'rlwrap' tty.log
	# rlwrap dropped the line Ctrl-C cut: it is not in the history.
	[ "$(cat "$HOME/.local/state/ca/chat_history")" = "two
three
four" ]
}

@test "ca-chat: under rlwrap, prompts are kept from one session to the next" {
	command -v rlwrap >/dev/null || skip "rlwrap is not installed"
	unset CA_CHAT_RLWRAP
	export TERM=xterm
	export XDG_STATE_HOME="$PWD/state"
	on_pty one.log ca-chat -t s.ndjson <<-'EOT'
	expect ca> 
	send hello\r
	expect No code to run in "hello".*ca> 
	send /help\r
	expect /quit, /exit.*ca> 
	send /quit\r
	exit 0
	EOT
	[ "$(cat state/ca/chat_history)" = "hello
/help
/quit" ]
	# The next session: up arrow three times recalls "hello".
	on_pty two.log ca-chat -t s.ndjson <<-'EOT'
	expect ca> 
	send \x1b[A\x1b[A\x1b[A\r
	expect No code to run in "hello".*ca> 
	send \x04
	exit 0
	EOT
	[ "$(sent_prompts | tr '\n' ' ')" = "hello hello|hello " ]
}

@test "ca-chat: Ctrl-C with prompts from a pipe ends the run, the turn left out" {
	emu_fault '[{"path":"/v1/messages","stream":"stall_after","after":3,"stall_ms":600000,"times":1}]'
	# bash traps INT so that it lives to say how ca-chat ended.
	on_pty tty.log bash -c 'trap : INT
		printf "%s\n" one two | ca-chat -t s.ndjson; echo "status $?"' <<-'EOT'
	expect > one.*No code to run
	send \x03
	expect status 130
	exit 0
	EOT
	[[ "$(tr -d '\r' <tty.log)" == *$'\nca-chat: cancelled; that turn is not in the transcript\nstatus 130'* ]]
	[ ! -s s.ndjson ]
	# "two" was never sent.
	[ -z "$(history_of two)" ]
}
