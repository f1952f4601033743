# Fuzzing with libFuzzer: fuzz/ is a cargo-fuzz layout in its own cargo
# workspace, built into its own target directory (fuzz/target).
#
#   make fuzz-build   builds every target in fuzz/fuzz_targets
#   make test-fuzz    builds, then runs each target for a bounded number of
#                     inputs (FUZZ_RUNS, at most FUZZ_SECONDS each)
#   make fuzz FUZZ_TARGET=hosts [FUZZ_TIME=300]
#                     fuzzes one target for longer; crashes go to
#                     fuzz/artifacts/TARGET/, new inputs to fuzz/corpus/TARGET/
#
# Works on stable Rust: the flags below are the coverage instrumentation
# that `cargo fuzz build --sanitizer none` passes, so neither nightly nor
# cargo-fuzz is needed. (With cargo-fuzz installed, `cargo fuzz run -s none
# hosts` works too; sanitizers other than `none` need nightly.) The targets
# check panics and logic, not memory errors: the code they reach has no
# `unsafe` of its own besides the C layer, which valgrind and the C tests
# cover. `--target` keeps the flags off build scripts and proc macros.
# fuzz/Cargo.lock starts from the main Cargo.lock, so both build the same
# SDK versions.

FUZZ_TRIPLE    ?= $(shell rustc -vV | sed -n 's/^host: //p')
FUZZ_TARGETS   := $(patsubst fuzz/fuzz_targets/%.rs,%,$(wildcard fuzz/fuzz_targets/*.rs))
FUZZ_BIN       := fuzz/target/$(FUZZ_TRIPLE)/release
FUZZ_RUNS      ?= 20000
FUZZ_SECONDS   ?= 10
FUZZ_MAX_LEN   ?= 4096
# Extra libFuzzer flags, e.g. FUZZ_FLAGS=-seed=1 to repeat a run.
FUZZ_FLAGS     ?=
FUZZ_RUSTFLAGS := --cfg fuzzing -Cpasses=sancov-module \
                  -Cllvm-args=-sanitizer-coverage-level=4 \
                  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
                  -Cllvm-args=-sanitizer-coverage-pc-table \
                  -Cllvm-args=-sanitizer-coverage-trace-compares \
                  -Cllvm-args=-sanitizer-coverage-stack-depth
# One bounded run of target $(1) (a name or a shell variable) for $(2)
# inputs and at most $(3) seconds, with its dictionary if it has one.
fuzz_run = mkdir -p fuzz/corpus/$(1) fuzz/artifacts/$(1) && \
  $(FUZZ_BIN)/$(1) -runs=$(2) -max_total_time=$(3) -max_len=$(FUZZ_MAX_LEN) -timeout=30 \
    $$(test -f fuzz/dict/$(1).dict && echo -dict=fuzz/dict/$(1).dict) \
    -artifact_prefix=fuzz/artifacts/$(1)/ $(FUZZ_FLAGS) fuzz/corpus/$(1) fuzz/seeds/$(1)

.PHONY: fuzz-build test-fuzz fuzz fuzz-clean
EXTRA_TESTS += test-fuzz

fuzz-build:
	cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" $(CARGO) build --release \
	  --target $(FUZZ_TRIPLE) --target-dir target --bins

test-fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t: $(FUZZ_RUNS) runs, at most $(FUZZ_SECONDS) s"; \
	  $(call fuzz_run,$$t,$(FUZZ_RUNS),$(FUZZ_SECONDS)); \
	done

FUZZ_TARGET ?= hosts
FUZZ_TIME   ?= 300
fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_TARGET),-1,$(FUZZ_TIME))

fuzz-clean:
	rm -rf fuzz/target fuzz/corpus fuzz/artifacts
