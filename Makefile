# ringlog — build, test, install.  This file is the one build description:
# tests/run.sh and fuzz/run.sh only call its targets and run what they build.
#   make                 library (static + shared) and the ringlog tool
#   make test            unit, stress, kill, signal, fuzz-replay, sanitizer tests
#   make check T=test_basic   build and run one test (SAN=asan|tsan: in that build)
#   make check-headers check-bad-arg check-cxx check-replay check-tool check-ctf
#                        the other checks of `make test`, one at a time
#   make check-python check-jsonl check-syslog check-journald ...
#                        the tool and reader tiers (python3-pytest, jq, rsyslog)
#   make bench-forward   entries/s of `ringlog forward --syslog tcp://` into rsyslog
#   make fuzz            libFuzzer run (fuzz/run.sh; the binary: SAN=fuzz)
#   make install         PREFIX=/usr/local DESTDIR=
# Variables: CC, CXX, CFLAGS_EXTRA, SAN (asan|tsan|fuzz), BUILD (output dir;
# default build, or build-$(SAN)).  SAN=tsan and SAN=fuzz default CC to clang.
CC       ?= cc
CLANGXX  ?= clang++
# TSan: clang's knows C11 atomics best; libFuzzer is clang's.
ifneq ($(filter tsan fuzz,$(SAN)),)
  ifeq ($(origin CC),default)
    CC := clang
  endif
endif
BUILD    ?= build$(if $(SAN),-$(SAN))
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
# Debian's python3 looks in /usr/local/lib/python3.X/dist-packages (and,
# for PREFIX=/usr, /usr/lib/python3/dist-packages).
PYVER    := $(shell python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYDIR    ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(PYVER)/dist-packages)

SOVER    := 0
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
            -Wformat=2 -Wno-format-nonliteral
ifeq ($(SAN),fuzz)
  CFLAGS ?= -O1 -g
endif
CFLAGS   ?= -O2 -g
LDLIBS   := -lpthread

# SAN_CFLAGS: compile flags of a sanitizer build; RUN_ENV: how its tests run.
ifeq ($(SAN),asan)
  SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
  RUN_ENV := RINGLOG_STRESS_SCALE=25 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
endif
ifeq ($(SAN),tsan)
  SAN_CFLAGS := -fsanitize=thread
  LDFLAGS += -fsanitize=thread
  RUN_ENV := RINGLOG_STRESS_SCALE=10 TSAN_OPTIONS=halt_on_error=1:exitcode=66
endif
# The library for libFuzzer: ASan+UBSan, coverage without the fuzzer's main.
ifeq ($(SAN),fuzz)
  SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link
  LDFLAGS += -fsanitize=address,undefined
endif
# Compressed recording files: with <zstd.h> (libzstd-dev) at build time the
# library loads libzstd.so.1 when it first needs it (src/zstd.c); it never
# links it, so it still needs only libc and pthreads.  Without the header,
# recordings are written and read uncompressed and --compress says why not.
HAVE_ZSTD := $(shell printf '\043include <zstd.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(CFLAGS_EXTRA) $(SAN_CFLAGS) -Iinclude -Isrc \
              $(if $(HAVE_ZSTD),-DRINGLOG_HAVE_ZSTD,)
# Compile tests of the public headers: as a user compiles them, -Werror.
HDR_CFLAGS   := -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude
HDR_CXXFLAGS := -std=c++11 -Wall -Wextra -Werror -Iinclude

# The tests `make test` also runs under TSan (the others run under ASan only).
TSAN_TESTS := test_stress test_basic test_queue test_snapshot test_deferred test_stopped test_continuous

LIB_SRC  := $(wildcard src/*.c)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
PIC_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/pic/%.o)
TOOL_SRC := $(wildcard tools/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_NAMES := $(TEST_SRC:tests/%.c=%)
TESTS    := $(TEST_NAMES:%=$(BUILD)/tests/%)
HEADERS  := $(wildcard include/*.h)
EX_SRC   := $(wildcard examples/*.c)
EXAMPLES := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)

STATIC   := $(BUILD)/libringlog.a
# Tests and the fuzz target call internal functions (rl_*): they link the
# objects as they are.  The installed archive exports ringlog_* only.
INTERNAL := $(BUILD)/libringlog-internal.a
SHARED   := $(BUILD)/libringlog.so.$(VERSION)
TOOL     := $(BUILD)/ringlog

.PHONY: all lib tool tests examples test test-quick check check-headers check-bad-arg \
        check-cxx check-replay check-tool check-record check-python check-capture check-top \
        check-journald check-syslog check-jsonl check-ctf fuzz seeds install uninstall clean \
        bench bench-quick bench-forward bench-record

CAPTURE  := $(BUILD)/libringlog_capture.so

all: $(STATIC) $(SHARED) $(TOOL) $(CAPTURE) examples

# The LD_PRELOAD capture library (ringlog run): the library's objects
# inside, so that it needs nothing installed.
$(CAPTURE): capture/capture.c $(PIC_OBJ) $(HEADERS)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ capture/capture.c $(PIC_OBJ) $(LDFLAGS) -ldl $(LDLIBS)

lib: $(STATIC) $(SHARED)
tool: $(TOOL)
tests: $(TESTS) $(BUILD)/tests/plugin_deferred.so $(BUILD)/tests/ctf_prog
examples: $(EXAMPLES)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c $< -o $@

$(BUILD)/pic/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -fPIC -c $< -o $@

$(INTERNAL): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# One relocatable object whose hidden symbols (everything but the
# RINGLOG_API functions) are made local: a program linking the static
# library sees no rl_* names to collide with its own.
$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(CC) -r -nostdlib -o $(BUILD)/ringlog-all.o $^
	objcopy --localize-hidden $(BUILD)/ringlog-all.o
	ar rcs $@ $(BUILD)/ringlog-all.o

$(SHARED): $(PIC_OBJ)
	$(CC) -shared -Wl,-soname,libringlog.so.$(SOVER) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf libringlog.so.$(VERSION) $(BUILD)/libringlog.so.$(SOVER)
	ln -sf libringlog.so.$(SOVER) $(BUILD)/libringlog.so

# The tool links the static library so it runs from a fresh clone as is.
# `ringlog top` needs ncurses (libncurses-dev); without it the tool is
# built all the same and top says what is missing.
HAVE_NCURSES := $(shell printf '\043include <curses.h>\nint main(void){return initscr()==0;}\n' | \
                  $(CC) -x c - -lncursesw -o /dev/null 2>/dev/null && echo 1)
TOOL_NCURSES := $(if $(HAVE_NCURSES),-DRINGLOG_HAVE_NCURSES,)
TOOL_NCLIBS  := $(if $(HAVE_NCURSES),-lncursesw,)

$(TOOL): $(TOOL_SRC) $(STATIC) $(wildcard include/*.h) $(wildcard tools/*.h)
	$(CC) $(ALL_CFLAGS) $(TOOL_NCURSES) $(LDFLAGS) -o $@ $(TOOL_SRC) $(STATIC) $(LDLIBS) $(TOOL_NCLIBS)

# Tests see internal headers (src/) for white-box checks of the layout.
# -rdynamic: the dlopen'ed plugin of test_deferred takes ringlog from the test.
$(BUILD)/tests/%: tests/%.c $(INTERNAL) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -rdynamic -o $@ $< $(INTERNAL) $(LDLIBS) -lm

$(BUILD)/tests/plugin_deferred.so: tests/plugin_deferred.c include/ringlog.h include/ringlog_log.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

# fuzz/fuzz_region.c two ways: a corpus replayer (any build) and, with
# SAN=fuzz (clang), the libFuzzer target that fuzz/run.sh runs.
$(BUILD)/fuzz_region_replay: fuzz/fuzz_region.c $(INTERNAL) $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(INTERNAL) $(LDLIBS)

$(BUILD)/fuzz_region: fuzz/fuzz_region.c $(INTERNAL) $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -DRINGLOG_LIBFUZZER -o $@ $< $(INTERNAL) $(LDLIBS)

# The real-region and snapshot seeds of fuzz/corpus (rerun after a layout change).
$(BUILD)/make_seeds: fuzz/make_seeds.c $(INTERNAL) $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(INTERNAL) $(LDLIBS)

seeds: $(BUILD)/make_seeds
	$(BUILD)/make_seeds fuzz/corpus

# The deferred macros compiled as C++11, with $(CXX) and with $(CLANGXX)
# when it is installed.
$(BUILD)/cxx_deferred: tests/cxx_deferred.cc $(STATIC) $(HEADERS)
	$(CXX) $(HDR_CXXFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

$(BUILD)/cxx_deferred_clang: tests/cxx_deferred.cc $(STATIC) $(HEADERS)
	$(CLANGXX) $(HDR_CXXFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

CXX_DEFERRED = $(BUILD)/cxx_deferred $(if $(shell command -v $(CLANGXX) 2>/dev/null),$(BUILD)/cxx_deferred_clang)

# ---- tests ------------------------------------------------------------------
# Full suite (tests/run.sh): normal build, ASan+UBSan and TSan builds of the
# tests, fuzz corpus replay, libFuzzer, compile tests, -Werror builds of gcc
# and clang.  Ends "N passed, M failed".
test: all tests
	@sh tests/run.sh

# Only the normal build's tests (fast edit-compile-test loop).
test-quick: all tests
	@RINGLOG_QUICK=1 sh tests/run.sh

# One test alone, run as `make test` runs it: make check T=test_basic [SAN=asan|tsan]
check: $(addprefix $(BUILD)/tests/,$(filter $(T),$(TEST_NAMES))) $(BUILD)/tests/plugin_deferred.so
	@$(if $(filter $(T),$(TEST_NAMES)),:,echo "usage: make check T=NAME [SAN=asan|tsan]; NAME: $(TEST_NAMES)" >&2; exit 2)
	$(RUN_ENV) $(BUILD)/tests/$(T)

# Every input of fuzz/corpus through the replayer.
check-replay: $(BUILD)/fuzz_region_replay
	$(RUN_ENV) $(BUILD)/fuzz_region_replay fuzz/corpus

# The public headers compile alone as C11 (-pedantic) and as C++11.
check-headers:
	@mkdir -p $(BUILD)
	printf '#include "ringlog.h"\n#include "ringlog_queue.h"\nint main(void){return 0;}\n' > $(BUILD)/hdr.c
	$(CC) $(HDR_CFLAGS) -c $(BUILD)/hdr.c -o $(BUILD)/hdr.o
	printf '#include "ringlog.h"\n#include "ringlog_queue.h"\nint main(){return 0;}\n' > $(BUILD)/hdr.cc
	$(CXX) $(HDR_CXXFLAGS) -c $(BUILD)/hdr.cc -o $(BUILD)/hdr_cc.o

# tests/bad_arg.c compiles as is, and fails to compile with each BAD_* macro
# with an error that names the reason (DEFINE:word of the error).
BAD_CFLAGS := -std=c11 -Wno-format -Iinclude
BAD_ARGS := BAD_STRUCT:ringlog_argument_type_cannot_be_logged \
            BAD_INT128:ringlog_argument_type_cannot_be_logged \
            BAD_COMPLEX:ringlog_argument_type_cannot_be_logged \
            BAD_MANY:ringlog_error_at_most_16_arguments
check-bad-arg:
	@mkdir -p $(BUILD)
	$(CC) $(BAD_CFLAGS) -Wall -Wextra -Werror -c tests/bad_arg.c -o $(BUILD)/bad_arg.o
	@for bad in $(BAD_ARGS); do \
	    def=$${bad%%:*}; why=$${bad#*:}; \
	    if $(CC) $(BAD_CFLAGS) -D$$def -c tests/bad_arg.c -o $(BUILD)/bad_arg.o 2>$(BUILD)/bad_arg.err; then \
	        echo "$$def compiled"; exit 1; \
	    fi; \
	    grep -q "$$why" $(BUILD)/bad_arg.err || { cat $(BUILD)/bad_arg.err; exit 1; }; \
	    echo "$$def: does not compile ($$why)"; \
	done

check-cxx: $(CXX_DEFERRED)
	$(foreach t,$(CXX_DEFERRED),$(RUN_ENV) $(t) &&) :

check-tool: $(TOOL)
	sh tests/tool.sh $(TOOL)

# ringlog record --continuous: rotation, zstd, pruning, full disk.
check-record: $(TOOL) $(EXAMPLES)
	HAVE_ZSTD=$(HAVE_ZSTD) sh tests/record.sh $(BUILD)

# ringlog run and the capture library, with real programs.
$(BUILD)/tests/capture_prog: tests/capture_prog.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

check-syslog: $(TOOL) $(EXAMPLES)
	sh tests/syslog.sh $(BUILD)

# `ringlog tail --json` read by jq and by rsyslog's imfile + mmjsonparse.
check-jsonl: $(TOOL) $(EXAMPLES)
	sh tests/jsonl.sh $(BUILD)

check-journald: $(TOOL) $(EXAMPLES)
	sh tests/journald.sh $(BUILD)

# ringlog export --ctf, read back by babeltrace2 (Debian's babeltrace2).
$(BUILD)/tests/ctf_prog: tests/ctf_prog.c $(STATIC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

check-ctf: $(TOOL) $(BUILD)/tests/ctf_prog
	sh tests/ctf.sh $(BUILD)

check-top: $(TOOL)
	sh tests/top.sh $(TOOL)

check-capture: $(TOOL) $(CAPTURE) $(BUILD)/tests/capture_prog
	sh tests/capture.sh $(BUILD)

# The Python reader (python/ringlog, ctypes over the shared library), under
# pytest (Debian: python3-pytest).  PYTHON: the first python3 on PATH that
# has pytest, else /usr/bin/python3 (Debian's, where python3-pytest lives,
# when PATH finds another python3 first, e.g. pyenv's).
PYTHON ?= $(firstword $(foreach p,python3 /usr/bin/python3,$(if $(shell $(p) -c 'import pytest' 2>/dev/null && echo y),$(p))) python3)
check-python: $(SHARED) $(TOOL) $(EXAMPLES)
	RINGLOG_LIB=$(abspath $(BUILD))/libringlog.so.$(SOVER) PYTHONPATH=python \
	RINGLOG_TOOL=$(TOOL) RINGLOG_ORDERS=$(BUILD)/examples/orders \
	    $(PYTHON) -m pytest -q -p no:cacheprovider --basetemp=$(BUILD)/pytest tests/test_python.py

# For the scripts: make -s print-TSAN_TESTS
print-%:
	@echo $($*)

fuzz:
	@sh fuzz/run.sh

# Peers (spdlog, LTTng-UST) are installed by bench/run.sh when missing.
bench:
	@sh bench/run.sh

bench-quick:
	@BENCH_QUICK=1 sh bench/run.sh

# `ringlog forward --syslog tcp://` into a foreground rsyslog: entries/s of
# the forwarder and end to end, median of 3 runs (N=200000 RUNS=3).
bench-forward: $(TOOL) $(EXAMPLES)
	@bash bench/forward_rate.sh $(BUILD)
	@PROTO=relp bash bench/forward_rate.sh $(BUILD)

# Continuous recording to disk, plain and zstd: entries/s and bytes/entry.
bench-record: $(TOOL) $(EXAMPLES)
	@bash bench/record_rate.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) \
	           $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libringlog.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libringlog.so.$(SOVER)
	ln -sf libringlog.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libringlog.so
	install -m 644 include/ringlog.h include/ringlog_log.h include/ringlog_queue.h $(DESTDIR)$(INCDIR)/
	install -m 755 $(TOOL) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBDIR)/ringlog
	install -m 755 $(CAPTURE) $(DESTDIR)$(LIBDIR)/ringlog/
	install -m 644 docs/ringlog.1 $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' ringlog.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ringlog.pc
	install -d $(DESTDIR)$(PYDIR)/ringlog
	install -m 644 python/ringlog/__init__.py python/ringlog/__main__.py $(DESTDIR)$(PYDIR)/ringlog/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libringlog.* $(DESTDIR)$(INCDIR)/ringlog.h $(DESTDIR)$(INCDIR)/ringlog_log.h $(DESTDIR)$(INCDIR)/ringlog_queue.h \
	      $(DESTDIR)$(BINDIR)/ringlog $(DESTDIR)$(MANDIR)/man1/ringlog.1 \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/ringlog.pc
	rm -rf $(DESTDIR)$(PYDIR)/ringlog

clean:
	rm -rf build build-asan build-tsan build-clang build-werror build-fuzz
