#!/usr/bin/env bats
# The record reader's type scan, through t/unit/scan-test: records a tool
# does not own are checked and typed without a full parse, with the same
# answers the full parse gives.

load test_helper
bats_require_minimum_version 1.5.0

rt() { "$CA_ROOT/t/unit/scan-test" "$@"; }

@test "unowned records are typed by the scan, owned ones are parsed" {
	run -0 --separate-stderr rt own < <(printf '%s\n' \
		'{"type":"a","x":[1,2,{"type":"b"}]}' \
		'{"type":"own"}' \
		' {"x":{"type":"inner"}, "type" : "z" } ' \
		'{"type":"a","type":"b"}')
	[ "$output" = "$(printf '%s\n' 'passed a' 'parsed own' 'passed z' 'parsed b')" ]
	[ -z "$stderr" ]
}

@test "what the scan is unsure of goes to the full parse, with its answer" {
	# An escaped type, and a number strict JSON forbids but cJSON
	# takes: the full parse decides, as before the scan.  Escaped keys
	# and surrogate pairs elsewhere the scan reads as cJSON does.
	run -0 --separate-stderr rt own < <(printf '%s\n' \
		'{"type":"a\u0062"}' \
		'{"typ\u0065":"q"}' \
		'{"n":01,"type":"a"}' \
		'{"type":"\ud83d\ude00"}' \
		'{"t\u0079pe":"k","x":"\ud83d\ude00"}' \
		'{"t\/ype":"w","type":"v"}')
	[ "$output" = "$(printf '%s\n' 'parsed ab' 'passed q' 'parsed a' 'parsed 😀' 'passed k' 'passed v')" ]
}

@test "bad lines are refused as before, not passed" {
	run -1 --separate-stderr rt own < <(printf '%s\n' \
		'{"type":"a",}' '{"type":"a"} x' '{"type":""}' '[1]' \
		'{"type":1}' '{"type":"a"' '{"type":"a","s":"tab	in"}' \
		'{"type":"ok"}')
	# cJSON takes a raw tab in a string, so the scan defers to it.
	[ "$output" = "$(printf '%s\n' 'parsed a' 'passed ok')" ]
	[ "$stderr" = "$(printf '%s\n' \
		'scan-test: <stdin>:1: not a JSON object, skipped' \
		'scan-test: <stdin>:2: not a JSON object, skipped' \
		'scan-test: <stdin>:3: record has no "type", skipped' \
		'scan-test: <stdin>:4: not a JSON object, skipped' \
		'scan-test: <stdin>:5: record has no "type", skipped' \
		'scan-test: <stdin>:6: not a JSON object, skipped')" ]
}

@test "the scan agrees with a JSON parser on thousands of generated records" {
	python3 - >gen.ndjson <<'PY'
import json, random
r = random.Random(11)
def s():
    return "".join(r.choice(['a', 'é', '"', '\\', '\n', '\x01', '😀', '{', '}', '[', ',', ':', ' ', 'type'])
                   for _ in range(r.randrange(6)))
def v(d):
    k = r.randrange(9 if d < 5 else 5)
    if k == 0: return r.choice([True, False, None])
    if k == 1: return r.randrange(-10**6, 10**6)
    if k == 2: return r.uniform(-1e9, 1e9)
    if k in (3, 4): return s()
    if k in (5, 6): return [v(d + 1) for _ in range(r.randrange(4))]
    o = {s(): v(d + 1) for _ in range(r.randrange(4))}
    if r.random() < 0.3: o["type"] = r.choice(["x", "own", "é", 'q"', 7])
    return o
for i in range(3000):
    o = {s(): v(1) for _ in range(r.randrange(4))}
    if r.random() < 0.95: o["type"] = r.choice(["x", "own", "é", 'q"', "", "😀", 7])
    keys = list(o.items()); r.shuffle(keys); o = dict(keys)
    print(json.dumps(o, ensure_ascii=r.random() < 0.5,
                     separators=r.choice([(",", ":"), (", ", ": "), (" ,", " : ")])))
PY
	python3 -c '
import json, sys
for line in open("gen.ndjson"):
    t = json.loads(line).get("type")
    if isinstance(t, str) and t:
        print(t)' >want
	run -1 --separate-stderr rt own <gen.ndjson
	diff <(cut -d" " -f2- <<<"$output") want
	# The scan typed every plain type (escaped ones go to the full
	# parse), and owned records were parsed.
	[ "$(grep -c '^passed ' <<<"$output")" -gt 700 ]
	! grep -q '^parsed x$' <<<"$output"
	! grep -q '^passed own$' <<<"$output"
	[ "$(grep -c '^parsed own$' <<<"$output")" -eq "$(grep -cx own want)" ]
}

@test "without a list of owned types every record is parsed" {
	run -0 rt < <(printf '%s\n' '{"type":"a"}' '{"type":"b"}')
	[ "$output" = "$(printf '%s\n' 'parsed a' 'parsed b')" ]
}

@test "records passed through unparsed are byte for byte, in order" {
	printf '%s\n' '{"type":"a", "x" : 1}' '  {"type":"own"}' '{"type":"b","s":"é\u00e9"}' '' '{"type":"c"}' >in
	run -0 rt -r own <in
	[ "$output" = "$(grep -v '^$' in)" ]
}

@test "a record passed through unparsed is written before the reader waits for more" {
	mkfifo in out
	# The writer sends the second line only once the first came out:
	# a record held back until more input arrived would hang this
	# (timeout ends it, failing).
	rt -r own <in >out &
	exec 4>in 5<out
	printf '%s\n' '{"type":"a"}' >&4
	run -0 timeout 60 head -n 1 <&5
	[ "$output" = '{"type":"a"}' ]
	printf '%s\n' '{"type":"b"}' >&4
	exec 4>&-
	run -0 timeout 60 cat <&5
	[ "$output" = '{"type":"b"}' ]
	exec 5<&-
	wait
}
