#!/usr/bin/env bats
# ca-emu, the command: the eval idiom (background, environment, -k),
# -- CMD, -D, its directory, its replies, --replay, and clean stops.
# Each test starts its own emulators, in its own directory.

load test_helper
bats_require_minimum_version 1.5.0

FAKE=ca-emu-fake-key-not-real

teardown() {
	# Whatever a failed test left running, by the pid files it wrote.
	local f
	for f in "$BATS_TEST_TMPDIR"/*/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}

# gone PID: true once the process has exited (waits up to 10 s).
gone() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# A prompt file with one python step: code.md.
python_prompt() {
	printf '```python\n%s\n```\n' "$1" >code.md
}

@test "eval idiom: prints the environment; a pipeline runs against it; -k stops it" {
	run --separate-stderr ca-emu -d "$PWD/e"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^ANTHROPIC_BASE_URL=http://127\.0\.0\.1:[0-9]+\;\ export\ ANTHROPIC_BASE_URL\;$ ]]
	[ "${lines[1]}" = "ANTHROPIC_API_KEY=$FAKE; export ANTHROPIC_API_KEY;" ]
	[[ "${lines[2]}" =~ ^CA_EMU_PID=[0-9]+\;\ export\ CA_EMU_PID\;$ ]]
	[ "${lines[3]}" = "CA_EMU_DIR=$PWD/e; export CA_EMU_DIR;" ]
	# The note names the Python that runs the code, and the directory.
	[[ "$stderr" == *"ca-emu: listening on http://127.0.0.1:"* ]]
	[[ "$stderr" == *"with Python 3."*"; files in $PWD/e"* ]]
	eval "$output"
	[ "$(cat e/pid)" = "$CA_EMU_PID" ]
	[ "$ANTHROPIC_BASE_URL" = "http://127.0.0.1:$(cat e/port)" ]
	kill -0 "$CA_EMU_PID"
	python_prompt 'print(6 * 7)'
	ca-request -n -i q1 -f code.md | ca-exec >s.ndjson
	[ "$(jq -r 'select(.type == "response") | .message.content[]
		| select(.type == "code_execution_tool_result") | .content.stdout' s.ndjson)" = 42 ]
	# Its files are in the directory: the log of that request (no key).
	[ "$(jq -r .path e/log.ndjson)" = /v1/messages ]
	refute grep -q "$FAKE" e/log.ndjson
	[ -d e/state/containers ]
	local pid=$CA_EMU_PID
	run --separate-stderr ca-emu -k
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'unset %s;\n' ANTHROPIC_BASE_URL ANTHROPIC_API_KEY CA_EMU_PID CA_EMU_DIR)" ]
	[ "$stderr" = "ca-emu: pid $pid stopped" ]
	refute kill -0 "$pid" 2>/dev/null
	[ ! -e e/port ] && [ ! -e e/pid ]
	[ -s e/log.ndjson ]
	# Nothing left to stop: -k says so.
	run ca-emu -k -d "$PWD/e"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no emulator runs in $PWD/e"* ]]
}

@test "-k -d DIR stops the emulator of that directory; not another process" {
	ca-emu -d "$PWD/a" >a.env 2>/dev/null
	pid=$(cat a/pid)
	kill -0 "$pid"
	(unset CA_EMU_PID; ca-emu -k -d "$PWD/a" >/dev/null 2>&1)
	gone "$pid"
	# A stale CA_EMU_PID that names another process: left alone.
	sleep 60 3>&- &
	local other=$!
	CA_EMU_PID=$other run ca-emu -k
	[ "$status" -eq 1 ]
	[[ "$output" == *"pid $other is not ca-emu"* ]]
	kill -0 "$other"
	kill "$other"
}

@test "without -d: a new directory under XDG_STATE_HOME, named in CA_EMU_DIR" {
	export XDG_STATE_HOME="$PWD/xdg"
	eval "$(ca-emu 2>err)"
	[[ "$CA_EMU_DIR" == "$PWD/xdg/ca-emu/"* ]]
	[ -d "$CA_EMU_DIR/state" ] && [ -f "$CA_EMU_DIR/pid" ]
	grep -qF "files in $CA_EMU_DIR" err
	local pid=$CA_EMU_PID
	eval "$(ca-emu -k 2>/dev/null)"
	refute kill -0 "$pid" 2>/dev/null
	[ -z "${CA_EMU_PID:-}" ] && [ -z "${CA_EMU_DIR:-}" ]
}

@test "-- CMD: runs it with the environment, then stops; CMD's exit status passes through" {
	run --separate-stderr ca-emu -d "$PWD/e" -- sh -c \
		'echo "$ANTHROPIC_API_KEY $CA_EMU_PID"; ca-request -n hello | ca-exec >s.ndjson; exit 3'
	[ "$status" -eq 3 ]
	local pid=${output#"$FAKE "}
	[[ "$pid" =~ ^[0-9]+$ ]]
	refute kill -0 "$pid" 2>/dev/null
	[ ! -e e/port ] && [ ! -e e/pid ]
	[ "$(jq -r 'select(.type == "response") | .message.stop_reason' s.ndjson)" = end_turn ]
	# A failing pipeline's status comes through as it is.
	run ca-emu -d "$PWD/e" -- sh -c 'ca-request -n hello | ca-exec --api-version 1999-01-01 >/dev/null'
	[ "$status" -eq 1 ]
	run ca-emu -d "$PWD/e" -- true
	[ "$status" -eq 0 ]
	run -127 ca-emu -d "$PWD/e" -- ./no-such-command
	[ "$status" -eq 127 ]
}

@test "a prompt with no fenced code: the reply says what the emulator runs and how to write it" {
	ca-emu -d "$PWD/e" -- sh -c 'ca-request -n -i q1 hello there | ca-exec' >s.ndjson 2>/dev/null
	[ "$(jq -r 'select(.type == "response") | .message.content[0].text' s.ndjson)" = \
		'No code to run in "hello there": the prompt holds no fenced code. This is ca-emu, a local emulator, not a model: it runs only the code written in the prompt, in a fenced block (a line ```python or ```bash, the code, then a line ```).' ]
}

@test "--version names the Python that runs the code, which is the one a step reports" {
	run ca-emu --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ca-emu\ [0-9.]+\ \(Python\ ([0-9.]+)\ at\ (/[^ ]+)\ runs\ the\ code\)$ ]]
	local ver=${BASH_REMATCH[1]}
	python_prompt 'import platform; print(platform.python_version())'
	ca-emu -d "$PWD/e" -- sh -c 'ca-request -n -f code.md | ca-exec' >s.ndjson 2>/dev/null
	[ "$(jq -r 'select(.type == "response") | .message.content[]
		| select(.type == "code_execution_tool_result") | .content.stdout' s.ndjson)" = "$ver" ]
}

@test "-D: in the foreground; SIGTERM stops it, code still running and all, and leaves no port file" {
	local mark="sleep 3$RANDOM.5"
	ca-emu -D -d "$PWD/e" >env 2>err 3>&- &
	local pid=$! i
	# The environment is printed last, once it listens.
	for i in $(seq 100); do
		grep -q CA_EMU_DIR env && break
		sleep 0.1
	done
	[ "$(cat e/pid)" = "$pid" ]
	grep -qx "CA_EMU_PID=$pid; export CA_EMU_PID;" env
	eval "$(cat env)"
	printf '```bash\n%s\n```\n' "$mark" >code.md
	ca-request -n -f code.md | ca-exec >/dev/null 2>&1 3>&- &
	local client=$!
	for i in $(seq 100); do
		pgrep -f "$mark" >/dev/null && break
		sleep 0.1
	done
	pgrep -f "$mark" >/dev/null
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	kill "$client" 2>/dev/null || true
	wait "$client" || true
	refute pgrep -f "$mark"
	[ ! -e e/port ] && [ ! -e e/pid ]
}

@test "in the background: SIGTERM and SIGINT leave no process and no port file" {
	local sig pid
	for sig in TERM INT; do
		ca-emu -d "$PWD/$sig" >/dev/null 2>&1
		pid=$(cat "$sig/pid")
		kill -0 "$pid"
		kill "-$sig" "$pid"
		gone "$pid"
		[ ! -e "$sig/port" ] && [ ! -e "$sig/pid" ]
	done
}

# record: a session against the emulator, with an upload, code that
# writes a file (and says "déjà ✓"), and a turn paused after every step
# (three parts).
record() {
	printf 'a,b\n1,2\n' >data.csv
	printf '```python\nimport os  # d\xc3\xa9j\xc3\xa0 \xe2\x9c\x93\nprint(open("data.csv").read())\nopen(os.environ["OUTPUT_DIR"] + "/x.bin", "wb").write(bytes(range(256)))\n```\n```bash\necho two\n```\n' >code.md
	ca-emu -d "$PWD/rec" --pause-each-step -- sh -c \
		'ca-upload data.csv | ca-request -i q1 -f code.md | ca-exec | ca-fetch -d recorded >session.ndjson
		 ca-request -n -i q2 "what is 2**10?" | ca-exec -s >plain.ndjson' 2>/dev/null
	[ "$(grep -c '"type":"response"' session.ndjson)" -eq 3 ]
}

@test "--replay: a recorded session comes back byte for byte, files and all, offline" {
	record
	ca-emu -d "$PWD/rep" --replay session.ndjson --replay plain.ndjson \
		--replay-files recorded -- sh -c \
		'ca-upload data.csv | ca-request -i q1 -f code.md | ca-exec | ca-fetch -d again >again.ndjson
		 ca-request -n -i q2 "what is 2**10?" | ca-exec >plain2.ndjson
		 ca-request -n -i q2 "what is 2**10?" | ca-exec -s >plain3.ndjson' 2>err
	grep -q "answers from session.ndjson, plain.ndjson (4 recorded response(s), 1 file(s))" err
	# Every response and fetched record is the same line, request ids
	# included; only the upload's file id (and so the request) differs.
	diff <(grep -e '"type":"response"' -e '"type":"fetched"' session.ndjson | sed 's|"path":"recorded/|"path":"again/|') \
		<(grep -e '"type":"response"' -e '"type":"fetched"' again.ndjson)
	cmp recorded/x.bin again/x.bin
	[ "$(jq -r 'select(.type == "file") | .file.id' session.ndjson)" != \
		"$(jq -r 'select(.type == "file") | .file.id' again.ndjson)" ]
	# No code ran: the replay made no container and wrote no file.
	[ -z "$(ls rep/state/containers)" ]
	# Recorded as a stream, asked without one and with one: the same message.
	json_eq "$(jq -c 'select(.type == "response") | .message' plain2.ndjson)" \
		"$(jq -c 'select(.type == "response") | .message' plain.ndjson)"
	json_eq "$(jq -c 'select(.type == "response") | .message' plain3.ndjson)" \
		"$(jq -c 'select(.type == "response") | .message' plain.ndjson)"
	# In the background too, with relative paths (it leaves the directory).
	eval "$(ca-emu -d rep2 --replay session.ndjson --replay-files recorded 2>/dev/null)"
	ca-upload data.csv | ca-request -i q1 -f code.md | ca-exec | ca-fetch -d again3 >/dev/null
	eval "$(ca-emu -k 2>/dev/null)"
	cmp recorded/x.bin again3/x.bin
	# With a fixed custom_id and no upload, the response record is the same.
	ca-emu -d "$PWD/rep" --replay plain.ndjson -- sh -c \
		'ca-request -n -i q2 "what is 2**10?" | ca-exec -s' >plain4.ndjson 2>/dev/null
	json_eq "$(jq -c 'select(.type == "response")' plain4.ndjson)" \
		"$(jq -c 'select(.type == "response")' plain.ndjson)"
}

@test "--replay: a request it has no answer for is a 404 not_found_error naming it" {
	record
	run --separate-stderr ca-emu -d "$PWD/rep" --replay plain.ndjson -- sh -c \
		'ca-request -n -i q9 "what is 3**10, and why is the sky blue at noon but red at dusk?" | ca-exec'
	[ "$status" -eq 1 ]
	jq -e 'select(.type == "error") | .status == 404 and .error.type == "not_found_error"
		and .error.message == "ca-emu --replay: no recorded answer for this request (user text: \"what is 3**10, and why is the sky blue at noon but red at...\")"' <<<"$output"
	# Another model is another request, as is another tool version.
	run ca-emu -d "$PWD/rep" --replay plain.ndjson -- sh -c \
		'ca-request -n -i q2 -T code_execution_20250825 "what is 2**10?" | ca-exec >/dev/null 2>&1'
	[ "$status" -eq 1 ]
	# The bytes of a fetched file it was not given are a 404 as well.
	run ca-emu -d "$PWD/rep" --replay session.ndjson -- sh -c \
		'ca-upload data.csv | ca-request -i q1 -f code.md | ca-exec | ca-fetch -d again2 >/dev/null'
	[ "$status" -eq 1 ]
	[[ "$output" == *"give the directory it was fetched to (--replay-files DIR)"* ]]
}

@test "make install installs ca-emu, its package and its page; uninstall removes them" {
	run make -s -C "$CA_ROOT" install DESTDIR="$PWD/dest" PREFIX=/opt/ca
	[ "$status" -eq 0 ]
	[ -f dest/opt/ca/share/man/man1/ca-emu.1 ]
	[ -f dest/opt/ca/lib/ca/caemu/replay.py ]
	run dest/opt/ca/bin/ca-emu --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ca-emu "* ]]
	# Installed, it answers a pipeline as in the tree.
	run dest/opt/ca/bin/ca-emu -d "$PWD/e" -- sh -c 'ca-request -n hi | ca-exec >s.ndjson'
	[ "$status" -eq 0 ]
	[[ "$(jq -r 'select(.type == "response") | .message.content[0].text' s.ndjson)" == 'No code to run in "hi"'* ]]
	run make -s -C "$CA_ROOT" uninstall DESTDIR="$PWD/dest" PREFIX=/opt/ca
	[ "$status" -eq 0 ]
	[ -z "$(find dest -type f)" ]
}
