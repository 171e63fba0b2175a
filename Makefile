# ringlog — build, test, install.
#   make                 library (static + shared) and the ringlog tool
#   make test            unit, stress, kill, signal, fuzz-replay, sanitizer tests
#   make install         PREFIX=/usr/local DESTDIR=
# Variables: CC, CFLAGS_EXTRA, BUILD (output dir), SAN (asan|tsan)

CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man

SOVER    := 0
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
            -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(CFLAGS_EXTRA) -Iinclude -Isrc
LDLIBS   := -lpthread

ifeq ($(SAN),asan)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),tsan)
  ALL_CFLAGS += -fsanitize=thread
  LDFLAGS += -fsanitize=thread
endif

LIB_SRC  := $(wildcard src/*.c)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
PIC_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/pic/%.o)
TOOL_SRC := $(wildcard tools/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EX_SRC   := $(wildcard examples/*.c)
EXAMPLES := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)

STATIC   := $(BUILD)/libringlog.a
SHARED   := $(BUILD)/libringlog.so.$(VERSION)
TOOL     := $(BUILD)/ringlog

.PHONY: all lib tool tests examples test test-quick fuzz install uninstall clean bench bench-quick

all: $(STATIC) $(SHARED) $(TOOL) examples

lib: $(STATIC) $(SHARED)
tool: $(TOOL)
tests: $(TESTS) $(BUILD)/tests/plugin_deferred.so
examples: $(EXAMPLES)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c $< -o $@

$(BUILD)/pic/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -fPIC -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(PIC_OBJ)
	$(CC) -shared -Wl,-soname,libringlog.so.$(SOVER) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf libringlog.so.$(VERSION) $(BUILD)/libringlog.so.$(SOVER)
	ln -sf libringlog.so.$(SOVER) $(BUILD)/libringlog.so

# The tool links the static library so it runs from a fresh clone as is.
$(TOOL): $(TOOL_SRC) $(STATIC) $(wildcard include/*.h) $(wildcard tools/*.h)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(TOOL_SRC) $(STATIC) $(LDLIBS)

# Tests see internal headers (src/) for white-box checks of the layout.
# -rdynamic: the dlopen'ed plugin of test_deferred takes ringlog from the test.
$(BUILD)/tests/%: tests/%.c $(STATIC) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -rdynamic -o $@ $< $(STATIC) $(LDLIBS) -lm

$(BUILD)/tests/plugin_deferred.so: tests/plugin_deferred.c include/ringlog.h include/ringlog_log.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

# Full suite: normal build, ASan+UBSan and TSan builds of the concurrent
# tests, fuzz corpus replay, header compile tests.  Ends "N passed, N failed".
test: all tests
	@sh tests/run.sh

# Only the normal build's tests (fast edit-compile-test loop).
test-quick: all tests
	@RINGLOG_QUICK=1 sh tests/run.sh

fuzz:
	@sh fuzz/run.sh

# Peers (spdlog, LTTng-UST) are installed by bench/run.sh when missing.
bench:
	@sh bench/run.sh

bench-quick:
	@BENCH_QUICK=1 sh bench/run.sh

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) \
	           $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libringlog.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libringlog.so.$(SOVER)
	ln -sf libringlog.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libringlog.so
	install -m 644 include/ringlog.h include/ringlog_log.h include/ringlog_queue.h $(DESTDIR)$(INCDIR)/
	install -m 755 $(TOOL) $(DESTDIR)$(BINDIR)/
	install -m 644 docs/ringlog.1 $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' ringlog.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ringlog.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libringlog.* $(DESTDIR)$(INCDIR)/ringlog.h $(DESTDIR)$(INCDIR)/ringlog_log.h $(DESTDIR)$(INCDIR)/ringlog_queue.h \
	      $(DESTDIR)$(BINDIR)/ringlog $(DESTDIR)$(MANDIR)/man1/ringlog.1 \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/ringlog.pc

clean:
	rm -rf build build-asan build-tsan build-clang build-werror build-fuzz
