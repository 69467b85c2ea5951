#!/usr/bin/env python3
"""Extract the shell examples of README.md and the man pages, and run them.

Used by t/examples.bats and t/make.bats; the conventions are described
there.  Usage:

  examples.py list DOC...          each example: "DOC:LINE: first line"
  examples.py block DOC REGEX      the first example with a line matching
                                   REGEX, as written (a Makefile, say)
  examples.py run MARKS DOC...     run every example not in MARKS, in the
                                   current directory, in order; exit 1 if
                                   any failed

An example is, in README.md, an indented code block (four spaces), and in
a man page, a .Dl line or a .Bd -literal block of the EXAMPLES section.
An example whose first line starts with "$ " is a session: each "$ "
command (continued on the next lines until it is complete shell) is run,
and the lines up to the next command are its expected output, where a
line "..." stands for any number of lines, and container ids and times
may differ.  Any other example is a script that must exit 0.  Scripts run
under bash -o pipefail, so a failing filter anywhere in a pipeline counts.
"""
import re
import subprocess
import sys


def readme_examples(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i, prev_blank = [], 0, True
    while i < len(lines):
        if prev_blank and lines[i].startswith("    ") and lines[i].strip():
            start, block = i + 1, []
            while i < len(lines) and (lines[i].startswith("    ") or
                                      not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out.append((start, block))
            prev_blank = False
            continue
        prev_blank = not lines[i].strip()
        i += 1
    return out


def unmdoc(s):
    for a, b in (("\\e", "\\"), ("\\-", "-"), ("\\(dq", '"'), ("\\&", ""),
                 ("\\(aq", "'"), ("\\(ga", "`")):
        s = s.replace(a, b)
    return s


def man_examples(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, in_ex, i = [], False, 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(".Sh "):
            in_ex = ln.strip() == ".Sh EXAMPLES"
        elif in_ex and ln.startswith(".Dl "):
            out.append((i + 1, [unmdoc(ln[4:])]))
        elif in_ex and ln.startswith(".Bd -literal"):
            start, block = i + 2, []
            i += 1
            while i < len(lines) and not lines[i].startswith(".Ed"):
                block.append(unmdoc(lines[i]))
                i += 1
            out.append((start, block))
        i += 1
    return out


def examples(path):
    if path.endswith(".md"):
        return readme_examples(path)
    return man_examples(path)


def name(path):
    return re.sub(r"^.*/(man/)?", lambda m: m.group(1) or "", path)


def load_marks(path):
    """Lines "DOC :: FIRST LINE PREFIX :: TAG: why"; # starts a comment."""
    marks = []
    for ln in open(path, encoding="utf-8"):
        ln = ln.strip()
        if not ln or ln.startswith("#"):
            continue
        doc, prefix, why = [f.strip() for f in ln.split(" :: ", 2)]
        marks.append([doc, prefix, why, 0])
    return marks


def complete(cmd):
    return subprocess.run(["bash", "-n", "-c", cmd], capture_output=True
                          ).returncode == 0


def sessions(block):
    """[(command, [expected lines])] of a "$ " example."""
    out, i = [], 0
    while i < len(block):
        cmd = block[i][2:]
        i += 1
        while not complete(cmd) and i < len(block):
            cmd += "\n" + block[i]
            i += 1
        exp = []
        while i < len(block) and not block[i].startswith("$ "):
            exp.append(block[i])
            i += 1
        out.append((cmd, exp))
    return out


VOLATILE = [(re.compile(r"container_[A-Za-z0-9]+"), "container_…"),
            (re.compile(r"\b(r\d+)(-[0-9a-z]+){2,3}\b"), r"\1"),
            (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "…Z")]


def norm(s):
    for rx, to in VOLATILE:
        s = rx.sub(to, s)
    return s.rstrip()


def matches(exp, act, i=0, j=0):
    """Do the expected lines (with "..." for any lines) match exactly?"""
    while i < len(exp):
        if exp[i].strip() == "...":
            return any(matches(exp, act, i + 1, k)
                       for k in range(j, len(act) + 1))
        if j >= len(act) or norm(exp[i]) != norm(act[j]):
            return False
        i, j = i + 1, j + 1
    return j == len(act)


def run_one(doc, line, block):
    where = "%s:%d" % (name(doc), line)
    if block[0].startswith("$ "):
        for cmd, exp in sessions(block):
            p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd],
                               stdin=subprocess.DEVNULL,
                               capture_output=True, text=True)
            act = p.stdout.split("\n")
            if act and act[-1] == "":
                act.pop()
            if p.returncode != 0 or not matches(exp, act):
                print("FAIL %s: $ %s\n  exit %d\n  expected:\n%s\n  got:\n%s"
                      "\n  stderr:\n%s" % (
                          where, cmd, p.returncode,
                          "\n".join("    " + e for e in exp),
                          "\n".join("    " + a for a in act),
                          p.stderr))
                return False
        print("ok %s: %s" % (where, block[0]))
        return True
    p = subprocess.run(["bash", "-o", "pipefail", "-c", "\n".join(block)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    if p.returncode != 0:
        print("FAIL %s: %s\n  exit %d\n  stderr:\n%s" % (
            where, "\n  ".join(block), p.returncode, p.stderr))
        return False
    print("ok %s: %s" % (where, block[0]))
    return True


def main(argv):
    if len(argv) >= 2 and argv[0] == "list":
        for doc in argv[1:]:
            for line, block in examples(doc):
                print("%s:%d: %s" % (name(doc), line, block[0]))
        return 0
    if len(argv) == 3 and argv[0] == "block":
        for line, block in examples(argv[1]):
            if any(re.search(argv[2], b) for b in block):
                print("\n".join(block))
                return 0
        return 1
    if len(argv) >= 3 and argv[0] == "run":
        marks, ok, ran, skipped = load_marks(argv[1]), True, 0, 0
        for doc in argv[2:]:
            for line, block in examples(doc):
                m = [k for k in marks if k[0] == name(doc) and
                     block[0].startswith(k[1])]
                if m:
                    m[0][3] += 1
                    skipped += 1
                    print("skip %s:%d: %s (%s)" % (name(doc), line,
                                                   block[0], m[0][2]))
                    continue
                ran += 1
                ok = run_one(doc, line, block) and ok
        docs = [name(d) for d in argv[2:]]
        for k in marks:
            if k[0] in docs and k[3] == 0:
                print("FAIL unused mark: %s :: %s" % (k[0], k[1]))
                ok = False
        print("%d run, %d not run" % (ran, skipped))
        return 0 if ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
