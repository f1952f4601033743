# Load benchmark (bench/load.c): many threads call many client handles and
# the process-wide client, for two identities, on tokens that live 4 to
# 12 s, against the local fake endpoint. Prints calls/s, latency
# percentiles, the API calls made, RSS, fds and threads; figures only.
#
#   make bench-load                       60 s, 16 threads, 8 handles
#   make bench-load BENCH_LOAD_SECONDS=10 a short run
#
# BENCH_LOAD_THREADS and BENCH_LOAD_HANDLES set the other two.

BENCH_LOAD         := $(BUILD)/bench_load
BENCH_LOAD_SECONDS ?= 60
BENCH_LOAD_THREADS ?= 16
BENCH_LOAD_HANDLES ?= 8
BENCH_LOAD_CFLAGS  := -std=c11 -O2 -Wall -Wextra -Werror -pedantic

.PHONY: bench-load

$(BENCH_LOAD): bench/load.c tests/c/harness.h $(HARNESS) tests/life/proc_stats.h include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(BENCH_LOAD_CFLAGS) $< -o $@ $(HARNESS) $(LDLIBS_RS)

bench-load: lib $(BENCH_LOAD)
	$(FAKE) run -- $(BENCH_LOAD) $(BENCH_LOAD_SECONDS) $(BENCH_LOAD_THREADS) $(BENCH_LOAD_HANDLES)

# Per-user tokens (bench/users.c): the first call for a new user (three
# requests with application credentials, four with an application role),
# a cached call for a known user, and the exchanges under a 64-thread burst.
#
#   make bench-users                       50 users, 200000 cached calls
#   make bench-users BENCH_USERS=20

BENCH_USERS_BIN := $(BUILD)/bench_users
BENCH_USERS     ?= 50

.PHONY: bench-users

$(BENCH_USERS_BIN): bench/users.c tests/c/harness.h $(HARNESS) include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(BENCH_LOAD_CFLAGS) $< -o $@ $(HARNESS) $(LDLIBS_RS)

bench-users: lib $(BENCH_USERS_BIN)
	$(FAKE) run -- $(BENCH_USERS_BIN) $(BENCH_USERS)

# Pools, event loops and custom domains (bench/pools.c): call latencies over
# BENCH_POOLS_SECONDS of 20-second tokens from a 250 ms endpoint with
# refresh ahead on and off; start to a readable descriptor, cached and not;
# the lookups of 1000 calls with one custom domain.
#
#   make bench-pools                       60 s per refresh-ahead setting
#   make bench-pools BENCH_POOLS_SECONDS=15

BENCH_POOLS_BIN     := $(BUILD)/bench_pools
BENCH_POOLS_SECONDS ?= 60

.PHONY: bench-pools

$(BENCH_POOLS_BIN): bench/pools.c tests/c/harness.h $(HARNESS) include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(BENCH_LOAD_CFLAGS) $< -o $@ $(HARNESS) $(LDLIBS_RS)

bench-pools: lib $(BENCH_POOLS_BIN)
	$(FAKE) run --ttl 20 -- $(BENCH_POOLS_BIN) $(BENCH_POOLS_SECONDS)
