# ca: a Unix toolkit for Claude's code execution tool.
# GNU make.  `make check` installs what is missing, builds and tests.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKG_CONFIG ?= pkg-config
PKGS = libcurl libcjson

CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -pedantic -Wshadow -Wwrite-strings -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wformat=2
ifneq ($(CI),)
WARN += -Werror
endif
override CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 \
	$(WARN) -Ilib $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

BIN = ca-upload ca-request ca-exec ca-fetch ca-render ca-files ca-batch
SCRIPTS = ca-chat
MAN1 = $(BIN:%=man/%.1) $(SCRIPTS:%=man/%.1)
MAN7 = man/ca.7
BATCHOBJ = $(patsubst %.c,%.o,$(wildcard cmd/ca-batch/*.c))
LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:.c=.o)
UNITSRC = $(wildcard t/unit/*.c)
UNIT = $(UNITSRC:.c=)
BATS ?= bats

all: $(BIN) $(UNIT)

$(filter-out ca-batch,$(BIN)): %: cmd/%.o lib/libca.a
	$(CC) $(LDFLAGS) -o $@ cmd/$@.o lib/libca.a $(LDLIBS)

# ca-batch is several files, in cmd/ca-batch/.
ca-batch: $(BATCHOBJ) lib/libca.a
	$(CC) $(LDFLAGS) -o $@ $(BATCHOBJ) lib/libca.a $(LDLIBS)

$(UNIT): %: %.c lib/libca.a lib/ca.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< lib/libca.a $(LDLIBS)

lib/libca.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(LIBOBJ) $(filter-out cmd/ca-batch.o,$(BIN:%=cmd/%.o)) $(BATCHOBJ): lib/ca.h
$(BATCHOBJ): cmd/ca-batch/ca-batch.h

# Install what is missing (Debian packages), then build and run every test.
deps:
	@sh tools/deps.sh

check: deps
	$(MAKE) all
	BATS=$(BATS) sh tools/runtests.sh t

# Coverage-guided fuzzing of the parsers (clang's libFuzzer), each for
# FUZZ_SECONDS; not part of check.
FUZZ = fuzz/sse-fuzz fuzz/text-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -std=c99 \
	-D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -Ilib \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

fuzz: deps
	for f in $(FUZZ); do \
		clang $(FUZZ_CFLAGS) -o $$f $$f.c $(LIBSRC) $(LDLIBS) || exit 1; \
		mkdir -p $$f.corpus; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=$$f- $$f.corpus fuzz/corpus/$${f#fuzz/} \
		    >$$f.log 2>&1; rc=$$?; tail -n 6 $$f.log; \
		[ $$rc -eq 0 ] || { echo "$$f: see $$f.log" >&2; exit 1; }; \
	done

asan:
	$(MAKE) clean
	$(MAKE) CFLAGS='-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer' \
	    LDFLAGS='-fsanitize=address,undefined' all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
	    BATS=$(BATS) sh tools/runtests.sh t
	$(MAKE) clean

valgrind: deps
	$(MAKE) all
	CA_VALGRIND=1 BATS=$(BATS) sh tools/runtests.sh t

lint: deps
	mandoc -Tlint -W warning man/*.1 man/*.7
	shellcheck -x t/*.bash ca-chat tools/*.sh bench/*.sh .ci/run
	python3 -m py_compile emu/ca-emu.py

demo: deps
	$(MAKE) all
	sh tools/demo.sh

bench: deps
	$(MAKE) all
	sh bench/run.sh
	sh bench/batch.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(BIN) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7

uninstall:
	for f in $(BIN) $(SCRIPTS); do rm -f $(DESTDIR)$(BINDIR)/$$f; done
	for f in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$${f#man/}; done
	rm -f $(DESTDIR)$(MANDIR)/man7/ca.7

clean:
	rm -f $(BIN) $(UNIT) $(FUZZ) cmd/*.o cmd/ca-batch/*.o lib/*.o lib/libca.a
	rm -rf fuzz/*.corpus fuzz/*.log

.PHONY: all deps check fuzz asan valgrind lint demo bench install uninstall clean
