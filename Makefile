# sluice build. `make` builds build/sluice; `make test` installs deps, builds and runs every test.
ifeq ($(origin CC),default)
CC       = gcc
endif
BUILD    ?= build
# CFLAGS/LDLIBS may be overridden (sanitizer builds do); the flags below always apply.
CFLAGS   ?= -O2 -g
LDLIBS   ?= -ljemalloc -linih -luring -lpcre2-8 -lcrypt -lcares -lpthread
SAN_LDLIBS = -linih -luring -lpcre2-8 -lcrypt -lcares -lpthread
# -fno-strict-aliasing: socket addresses are written and read through sockaddr, sockaddr_in,
# sockaddr_in6 and sockaddr_storage views of the same bytes everywhere (as in HAProxy, which builds
# with it too); under strict aliasing GCC may drop such a store once calls get inlined differently.
XCFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Werror -fno-strict-aliasing -pthread \
            -I. -MMD -MP

# Every module's .c files are compiled; main.c only into the daemon so tests can link the rest.
LIB_SRC  := $(filter-out core/main.c,$(wildcard core/*.c balancer/*.c net/*.c net/http/*.c config/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
TOOLS    := $(BUILD)/backend

.PHONY: all deps run test unit integration asan tsan bench fmt fmt-check clean fuzz fuzz-smoke

all: $(BUILD)/sluice $(TOOLS)

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) -c $< -o $@

$(BUILD)/sluice: $(BUILD)/core/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(BUILD)/backend: bench/backend.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $< -lpthread

run: deps all
	@scripts/quickstart.sh

unit: $(BUILD)/unit
	$(BUILD)/unit

integration: all
	python3 tests/integration/run.py --build $(BUILD)

# The parser fuzz run is bounded (FUZZ_SECONDS) and runs before the integration tests so that
# their "N passed, N failed" line closes the output.
test: deps fmt-check
	@$(MAKE) --no-print-directory all $(BUILD)/unit
	@$(MAKE) --no-print-directory unit fuzz-smoke integration

# Sanitizer builds use their own build directory and the libc allocator (ASan/TSan replace malloc).
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" LDLIBS="$(SAN_LDLIBS)" all build-asan/unit
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" LDLIBS="$(SAN_LDLIBS)" unit integration

tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan CFLAGS="-O1 -g -fsanitize=thread" LDLIBS="$(SAN_LDLIBS)" all build-tsan/unit
	@$(MAKE) --no-print-directory BUILD=build-tsan CFLAGS="-O1 -g -fsanitize=thread" LDLIBS="$(SAN_LDLIBS)" unit integration

bench: deps all
	scripts/bench.sh

# libFuzzer target for the HTTP/1.1 parser. It runs on a working copy of the seed corpus in
# build-fuzz/ (the committed corpus is never written); a crash fails the target and leaves the
# reproducer in build-fuzz/artifacts/.
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZ_DIR     := build-fuzz
FUZZ_SRC     := tests/fuzz/fuzz_http.c net/http/parse.c net/http/chunk.c net/http/fields.c
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Werror -I.

$(FUZZ_DIR)/fuzz_http: $(FUZZ_SRC) net/http/parse.h net/http/chars.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_SRC)

fuzz: $(FUZZ_DIR)/fuzz_http
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	cp -n tests/fuzz/corpus/* $(FUZZ_DIR)/corpus/
	$(FUZZ_DIR)/fuzz_http -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-dict=tests/fuzz/http.dict -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

fmt:
	clang-format -i $(LIB_SRC) core/main.c $(wildcard */*.h */*/*.h) $(UNIT_SRC) bench/*.c

fmt-check:
	@clang-format --dry-run --Werror $(LIB_SRC) core/main.c $(wildcard */*.h */*/*.h) $(UNIT_SRC) bench/*.c

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
