# The verbs. Everything builds in release mode: model checking is slow in debug builds, and our
# crates keep their debug assertions on in release (see Cargo.toml).
CARGO ?= cargo
MODEL := $(CARGO) run --release --quiet -p paxos-model --

.PHONY: check check-full explore test lint

## check: model-check the default configuration (complete, under a minute)
check:
	$(MODEL) check

## explore: serve stateright's Explorer on localhost:3000 (BUG=<name> for a known-bad variant)
explore:
	$(MODEL) explore $(if $(BUG),--bug $(BUG)) $(ARGS)

## test: every test of every crate, in release mode
test:
	$(CARGO) test --release --workspace

## lint: formatting and clippy, as required before every commit
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
