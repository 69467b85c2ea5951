# ca: a Unix toolkit for Claude's code execution tool.
# GNU make.  `make check` installs what is missing, builds and tests.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
PKG_CONFIG ?= pkg-config
# The one place the version is written; debian/changelog agrees with it
# (t/deb.bats checks, and debian/rules refuses to build if not).
VERSION := $(shell cat VERSION)
# libcrypto first: the dynamic linker looks up each of the ~8,800
# symbols that libcurl's thirty libraries bind at start in the
# executable's libraries in order before theirs, and most are
# libcrypto's calls to itself.  First, it makes every lookup shorter:
# 0.15 ms of a tool's 4.5 ms start (LD_DEBUG=statistics, callgrind).
PKGS = libcrypto libcurl libcjson

CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -pedantic -Wshadow -Wwrite-strings -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wformat=2
ifneq ($(CI),)
WARN += -Werror
endif
override CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 \
	$(WARN) -Ilib $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
# Tools without HTTP link without libcurl and libcrypto: loading them and
# the thirty libraries behind them is most of such a tool's run time.
# A tool talks HTTP when it sets up the API endpoint (ca_api_init); if a
# tool without it ever needs lib/ca_http.c, its link fails, loudly.
CORE_LDLIBS = $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null) -lm

# Each tool is cmd/NAME.c, or every .c file in cmd/NAME/ (with its own
# headers there): the build, the tests and the docs test find them here.
BIN = $(sort $(patsubst cmd/%.c,%,$(wildcard cmd/*.c)) \
	$(patsubst cmd/%/,%,$(dir $(wildcard cmd/*/*.c))))
tool_src = $(wildcard cmd/$(1).c cmd/$(1)/*.c)
tool_obj = $(patsubst %.c,%.o,$(call tool_src,$(1)))
CMDOBJ = $(foreach t,$(BIN),$(call tool_obj,$(t)))
NETBIN := $(foreach t,$(BIN),$(if $(shell grep -l ca_api_init \
	$(call tool_src,$(t))),$(t)))
# ca-skills reads zips (zlib inflates the SKILL.md in one); no other
# tool loads zlib.
ZBIN = ca-skills
SCRIPTS = ca-chat
# The API emulator, installed as ca-emu with its package in LIBDIR/caemu
# (the installed emu/ca-emu.py is told where; in the tree, ./ca-emu is a
# link to it).
LIBDIR ?= $(PREFIX)/lib/ca
MAN1 = $(BIN:%=man/%.1) $(SCRIPTS:%=man/%.1) man/ca-emu.1
MAN7 = man/ca.7
LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:.c=.o)
UNITSRC = $(wildcard t/unit/*.c)
UNIT = $(UNITSRC:.c=)
BATS ?= bats
COMPLETION = completion/ca.bash completion/_ca

all: $(BIN) $(UNIT) $(COMPLETION)

.SECONDEXPANSION:
$(BIN): %: $$(call tool_obj,$$*) lib/libca.a
	$(CC) $(LDFLAGS) -o $@ $(call tool_obj,$@) lib/libca.a \
	    $(if $(filter $@,$(NETBIN)),$(LDLIBS),$(CORE_LDLIBS)) \
	    $(if $(filter $@,$(ZBIN)),-lz)

$(UNIT): %: %.c lib/libca.a lib/ca.h
	$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) -o $@ $< lib/libca.a $(LDLIBS)

lib/libca.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(LIBOBJ) $(CMDOBJ): lib/ca.h
# The model table: lib/models.tsv, which the emulator and completion
# read too, made into C rows for lib/ca_model.c.
lib/ca_model.o: lib/ca_models.h
lib/ca_models.h: lib/models.tsv tools/models.sh
	sh tools/models.sh lib/models.tsv >$@.tmp && mv $@.tmp $@
lib/ca_version.o: VERSION
lib/ca_version.o: CPPFLAGS += -DCA_VERSION='"$(VERSION)"'
$(CMDOBJ): $(wildcard cmd/*/*.h)

# Shell completion, generated from the tools' --help and the model table
# so that it cannot drift from either; gen.sh writes both files.
completion/ca.bash: $(BIN) $(SCRIPTS) completion/gen.sh lib/ca_model.c \
    lib/models.tsv
	sh completion/gen.sh . completion
completion/_ca: completion/ca.bash
	@test -f $@ || sh completion/gen.sh . completion

# Install what is missing (Debian packages): deps for every target below,
# check and demo only what they need.  Then build and run every test.
deps:
	@sh tools/deps.sh all

check:
	@sh tools/deps.sh test
	$(MAKE) all
	BATS=$(BATS) sh tools/runtests.sh t

# Coverage-guided fuzzing of the parsers (clang's libFuzzer), each for
# FUZZ_SECONDS; not part of check.
FUZZ = fuzz/sse-fuzz fuzz/text-fuzz fuzz/jcompact-fuzz fuzz/jscan-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -std=c99 \
	-D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -Ilib \
	-DCA_VERSION='"$(VERSION)"' $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

fuzz: deps lib/ca_models.h
	for f in $(FUZZ); do \
		clang $(FUZZ_CFLAGS) -o $$f $$f.c $(LIBSRC) $(LDLIBS) || exit 1; \
		mkdir -p $$f.corpus; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=$$f- $$f.corpus fuzz/corpus/$${f#fuzz/} \
		    >$$f.log 2>&1; rc=$$?; tail -n 6 $$f.log; \
		[ $$rc -eq 0 ] || { echo "$$f: see $$f.log" >&2; exit 1; }; \
	done

# The flags go to the tests too: t/build.bats compiles HACKING.md's
# skeleton against lib/libca.a, which needs the sanitizers' runtime.
ASAN_CFLAGS = -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_LDFLAGS = -fsanitize=address,undefined
asan:
	$(MAKE) clean
	$(MAKE) CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='$(ASAN_LDFLAGS)' all
	CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='$(ASAN_LDFLAGS)' \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
	    BATS=$(BATS) sh tools/runtests.sh t
	$(MAKE) clean

valgrind: deps
	$(MAKE) all
	CA_VALGRIND=1 BATS=$(BATS) sh tools/runtests.sh t

lint: deps
	mandoc -Tlint -W warning man/*.1 man/*.7
	shellcheck -x t/*.bash ca-chat tools/*.sh bench/*.sh .ci/run completion/gen.sh
	python3 -m py_compile t/sdk_shapes.py
	python3 -m py_compile emu/ca-emu.py emu/caemu/*.py
	python3 emu/ca-emu.py --help >/dev/null
	python3 emu/ca-emu.py --version >/dev/null

demo:
	@sh tools/deps.sh build
	$(MAKE) all
	sh tools/demo.sh

bench: deps
	$(MAKE) all
	sh bench/run.sh
	sh bench/batch.sh
	python3 bench/hold.py
	python3 bench/hold.py --unordered
	sh bench/ratelimit.sh

# The Debian package, ca_VERSION_ARCH.deb, built by dpkg-buildpackage
# from debian/ in a scratch copy of the tree and left here; lintian
# fails it on any error or warning.
deb:
	@sh tools/deps.sh deb
	sh tools/deb.sh
	lintian --fail-on error,warning ca_$(VERSION)_*.changes

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(BIN) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	mkdir -p $(DESTDIR)$(LIBDIR)/caemu
	install -m 0644 emu/caemu/*.py $(DESTDIR)$(LIBDIR)/caemu
	install -m 0644 lib/models.tsv $(DESTDIR)$(LIBDIR)
	sed 's|^_libdir = .*|_libdir = "$(LIBDIR)"|' emu/ca-emu.py >$(DESTDIR)$(BINDIR)/ca-emu
	chmod 0755 $(DESTDIR)$(BINDIR)/ca-emu
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	mkdir -p $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	for t in $(BIN) $(SCRIPTS); do \
		install -m 0644 completion/ca.bash $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	done
	install -m 0644 completion/_ca $(DESTDIR)$(ZSHCOMPDIR)/_ca

uninstall:
	for f in $(BIN) $(SCRIPTS) ca-emu; do rm -f $(DESTDIR)$(BINDIR)/$$f; done
	rm -rf $(DESTDIR)$(LIBDIR)/caemu
	rm -f $(DESTDIR)$(LIBDIR)/models.tsv
	rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null || true
	for f in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$${f#man/}; done
	rm -f $(DESTDIR)$(MANDIR)/man7/ca.7
	for f in $(BIN) $(SCRIPTS); do rm -f $(DESTDIR)$(BASHCOMPDIR)/$$f; done
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_ca

clean:
	rm -f $(BIN) $(UNIT) $(FUZZ) $(CMDOBJ) lib/*.o lib/libca.a $(COMPLETION) \
	    lib/ca_models.h
	rm -rf fuzz/*.corpus fuzz/*.log

.PHONY: all deps check fuzz asan valgrind lint demo bench deb install uninstall clean
