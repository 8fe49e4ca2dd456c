# dlmon — see README.md.  `make`, `make check`, `make install PREFIX=/usr/local DESTDIR=`.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/lib/dlmon
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR  ?=

CC       ?= cc
PKGS     := sqlite3 libpcre2-8 libcurl inih zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DDLMON_VERSION='"$(VERSION)"' -Isrc
VERSION  := 0.1.0

# make check SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer.
ifeq ($(SANITIZE),1)
CFLAGS   += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif

ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(PKG_CFLAGS)

# Library objects: every src/*.c except the programs' mains.
MAINS    := src/scan_main.c src/dlmon_main.c src/api_main.c
LIB_SRC  := $(filter-out $(MAINS),$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=build/%.o)
PROGS    := bin/dlmon-scan bin/dlmon $(if $(wildcard src/api_main.c),bin/dlmon-api.cgi)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)

all: $(PROGS)

build bin build/tests:
	@mkdir -p $@

build/%.o: src/%.c $(wildcard src/*.h) | build
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

build/libdlmon.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

bin/dlmon-scan: build/scan_main.o build/libdlmon.a | bin
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
bin/dlmon: build/dlmon_main.o build/libdlmon.a | bin
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
bin/dlmon-api.cgi: build/api_main.o build/libdlmon.a | bin
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/tests/%: tests/unit/%.c build/libdlmon.a | build/tests
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< \
	  build/libdlmon.a $(LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

# make check: unit tests (cmocka) then end-to-end tests (TAP, prove).
# VALGRIND=1 runs the programs under memcheck inside the end-to-end tests.
check: all $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	  if [ "$(VALGRIND)" = 1 ]; then valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite $$t; else $$t; fi; done
	@$(MAKE) --no-print-directory fuzz-replay
	DLMON_VALGRIND=$(VALGRIND) prove -j2 tests/e2e/

# make fuzz: libFuzzer harnesses (tests/fuzz/fuzz_*.c), built with clang and
# ASan/UBSan into build/fuzz/, each run for FUZZ_SECONDS over a scratch copy
# of its corpus (new inputs land in build/fuzz/corpus/NAME; copy the useful
# ones to tests/fuzz/corpus/NAME).  Crashes are written to build/fuzz/.
# make fuzz-replay (run by make check): the same harnesses built with $(CC)
# and tests/fuzz/replay.c instead of libFuzzer, fed each corpus file once.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -O1 -g
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
REPLAY_BIN   := $(FUZZ_NAMES:%=build/tests/fuzz_%-replay)
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.c=build/fuzz/%.o)

build/fuzz:
	@mkdir -p $@
build/fuzz/%.o: src/%.c $(wildcard src/*.h) | build/fuzz
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(WARN) $(PKG_CFLAGS) \
	  -fsanitize=fuzzer-no-link,address,undefined -O1 -g -c -o $@ $<
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz -std=c11 $(WARN) $(PKG_CFLAGS) $(FUZZ_FLAGS) \
	  -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS)
build/tests/fuzz_%-replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h build/libdlmon.a | build/tests
	$(CC) $(CPPFLAGS) -Itests/fuzz $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay.c \
	  build/libdlmon.a $(LDFLAGS) $(PKG_LIBS)

# One target per harness, so that `make -j2 fuzz` runs two at a time.
fuzz: $(FUZZ_NAMES:%=fuzz-run-%)
fuzz-run-%: build/fuzz/fuzz_%
	@mkdir -p build/fuzz/corpus/$*
	@cp tests/fuzz/corpus/$*/* build/fuzz/corpus/$*/
	@echo "== fuzz_$* for $(FUZZ_SECONDS) s (log: build/fuzz/$*.log)"
	@build/fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 \
	  -artifact_prefix=build/fuzz/crash-$*- -print_final_stats=1 \
	  build/fuzz/corpus/$* >build/fuzz/$*.log 2>&1 \
	  || { tail -n 40 build/fuzz/$*.log; exit 1; }
	@grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss)' build/fuzz/$*.log \
	  | sed 's/^/fuzz_$*: /'

fuzz-replay: $(REPLAY_BIN)
	@set -e; for n in $(FUZZ_NAMES); do \
	  if [ "$(VALGRIND)" = 1 ]; then valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite build/tests/fuzz_$$n-replay tests/fuzz/corpus/$$n; \
	  else build/tests/fuzz_$$n-replay tests/fuzz/corpus/$$n; fi; done

# make lint: cppcheck and clang-tidy (.clang-tidy) over src/; any finding fails.
# clang-tidy runs one file per job, LINT_JOBS at a time.
LINT_JOBS ?= 2
LINT_DEFS := -std=c11 -D_GNU_SOURCE -DDLMON_VERSION='"$(VERSION)"' -Isrc
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	  --std=c11 --library=posix --inline-suppr --suppressions-list=.cppcheck-suppressions \
	  -D_GNU_SOURCE -DDLMON_VERSION='"$(VERSION)"' -Isrc src/
	printf '%s\n' src/*.c | xargs -P $(LINT_JOBS) -I{} \
	  clang-tidy --quiet {} -- $(LINT_DEFS) $(PKG_CFLAGS)

# make bench: the benchmark of README "Performance" (scripts/bench; not part
# of check).  BENCH_ARGS="--runs 5" for more runs; data cached in BENCH_DIR.
bench: all
	scripts/bench $(BENCH_ARGS)

# make demo: a first real run on the example logs in tests/data/demo, with the
# database in demo/ (the clock is fixed with --now: the logs are from 2025).
DEMO_NOW := 2025-11-19 13:00:00
demo: all
	@mkdir -p demo
	sed -e 's|@TOP@|$(CURDIR)|g' etc/examples/demo.conf.in > demo/dlmon.conf
	bin/dlmon-scan -c demo/dlmon.conf --now '$(DEMO_NOW)' --dry-run | tail -n 12
	bin/dlmon-scan -c demo/dlmon.conf --now '$(DEMO_NOW)'
	bin/dlmon -c demo/dlmon.conf --now '$(DEMO_NOW)' status

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 bin/dlmon-scan bin/dlmon $(DESTDIR)$(BINDIR)/
	if [ -f bin/dlmon-api.cgi ]; then install -m 755 bin/dlmon-api.cgi $(DESTDIR)$(LIBEXECDIR)/; fi
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dlmon-scan $(DESTDIR)$(BINDIR)/dlmon $(DESTDIR)$(LIBEXECDIR)/dlmon-api.cgi
	rm -f $(DESTDIR)$(MANDIR)/man1/dlmon-scan.1 $(DESTDIR)$(MANDIR)/man1/dlmon.1 $(DESTDIR)$(MANDIR)/man1/dlmon-api.cgi.1
	rm -f $(DESTDIR)$(MANDIR)/man5/dlmon.conf.5
	-rmdir $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf build bin demo

.PHONY: all bench check demo install uninstall clean fuzz fuzz-replay lint
