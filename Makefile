# The verbs. Everything builds in release mode: model checking is slow in debug builds, and our
# crates keep their debug assertions on in release (see Cargo.toml).
CARGO ?= cargo
MODEL := $(CARGO) run --release --quiet -p paxos-model --

.PHONY: check check-full explore bugs test soak soak-cluster bench bench-cluster bench-checker lint mutants \
	cluster cluster-stop

## check: model-check the default configuration (DFS, complete, under a minute) with its coverage
check:
	$(MODEL) check --coverage

## check-full: the full suite: every configuration complete, every rule taken, every known-bad
## variant caught by one of them (under 15 minutes on 2 cores)
check-full:
	$(MODEL) suite --bugs

## explore: serve stateright's Explorer on localhost:3000. BUG=<name> explores a known-bad
## variant on the configuration that catches it; ARGS="--crashes 1" adds flags.
explore:
	$(MODEL) explore $(if $(BUG),--bug $(BUG) $$($(MODEL) bugs --flags $(BUG))) $(ARGS)

## bugs: list the known-bad variants and the configuration that catches each
bugs:
	$(MODEL) bugs

## test: every test of every crate, in release mode with debug assertions (what CI runs)
test:
	$(CARGO) test --release --workspace

## soak: the property tests with many more cases (PROPTEST_CASES=N to change)
PROPTEST_CASES ?= 2000
soak:
	PROPTEST_CASES=$(PROPTEST_CASES) $(CARGO) test --release -p paxos-proptests

## soak-cluster: `kill -9` of the leader of 3 `serve` processes every second for DURATION (default
## 10m) under clients, then the whole history through both linearizability checkers; prints
## kills, commands completed, violations (impl/tests/cluster_faults.rs)
DURATION ?= 10m
soak-cluster:
	SOAK_DURATION=$(DURATION) $(CARGO) test --release -p paxos-impl --test cluster_faults -- \
		--ignored --nocapture --exact soak_kill_leader_every_second

## bench: the runtime next to its bound (same threads and channels, no protocol work), side by
## side: 1, 32, 256 clients, memory and disk, Prepare-skip on and off, writes and reads; table,
## target/bench/report.json, SVG charts (BENCH_SECS=N per point, default 1; BENCH_SAVE=1 copies
## the charts to impl/benches/results)
bench:
	$(CARGO) bench -p paxos-impl --bench runtime

## bench-cluster: a fresh 3-process cluster on loopback, `paxos-impl client ... bench` at 1 and 64
## closed-loop clients over TCP (BENCH_CLUSTER_SECS=N per point, default 5): ops/s, p50/p99;
## target/bench/cluster.json; the cluster is stopped after
bench-cluster:
	$(CARGO) build --release -p paxos-impl
	@bash impl/scripts/bench-cluster.sh

## bench-checker: our checker next to stateright's own Paxos example (check-dfs 3), side by side:
## unique states per second and BFS bytes per state (BENCH_ROUNDS=N, default 3; BENCH_BFS_ROUNDS=N,
## default 1; BENCH_OURS=<path> measures another paxos-model build); also target/bench/checker.json
bench-checker:
	$(CARGO) bench -p paxos-model --bench checker

## lint: formatting, clippy and the API docs (no broken or private intra-doc links), as required
## before every commit
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet

## mutants: which one-line changes to the properties, the client and the server survive the fast
## model tests (cargo-mutants, not installed by us: cargo install cargo-mutants --locked).
## SHARD=k/n runs every n-th mutant from the k-th (default 0/8: about 40 mutants, under an hour
## on 2 cores); SHARD=0/1 runs all of them. Results in mutants.out/.
SHARD ?= 0/8
MUTANTS_FILES := --file model/src/checking/properties.rs --file model/src/client.rs \
	--file 'model/src/server/*.rs'
MUTANTS_TESTS := -C --release -C --lib -C --test=bugs -C --test=scenarios -C --test=modules \
	-C --test=properties -C --test=client_retries
mutants:
	CARGO_PROFILE_RELEASE_INCREMENTAL=true $(CARGO) mutants -j 1 --timeout 300 \
		--shard $(SHARD) --sharding round-robin $(MUTANTS_FILES) $(MUTANTS_TESTS)

## cluster: three `paxos-impl serve` processes on loopback (peers 7101-7103, clients 7201-7203),
## data in target/cluster/ (kept: a second `make cluster` restarts from it); says how to stop
cluster:
	$(CARGO) build --release -p paxos-impl
	@bash impl/scripts/cluster.sh start

## cluster-stop: stop the processes `make cluster` started
cluster-stop:
	@bash impl/scripts/cluster.sh stop
