#!/usr/bin/env bash
# Instructions per command of the runtime (or the bound), counted by valgrind's callgrind: the
# same bench point run twice, with BENCH_OPS commands and with three times as many, and the
# difference in instructions divided by the difference in commands (so the cluster's start, its
# election cancel out; the counting stops where the point's report begins). The second column
# is the part spent waiting for input (wait.rs: looking and yielding before sleeping), which
# depends on timing: compare the rest. Every thread's user-space instructions count, the bench's
# client loop included; the kernel's (wake-ups, context switches) do not: read those from
# `make bench`'s CPU and wake-up columns. Stable on a loaded machine, unlike times.
#
# usage: impl/scripts/bench-instructions.sh [clients...]   (default: 1 32 256)
# env:   KIND (default skip-writes; or skip-reads, ...; `bound` counts the bound), OPS (default
#        10000), STORAGE (default memory), TIMER_SCALE (default 20: timers 20 times longer,
#        so that the slowed-down cluster does not retry or send more heartbeats per command),
#        BIN=path counts another build of the bench (e.g. an older commit's, side by side),
#        KEEP=dir keeps the callgrind files there (for callgrind_annotate), and the commands
#        each run completed (ops.<clients>.<OPS>).
set -euo pipefail
cd "$(dirname "$0")/../.."
KIND=${KIND:-skip-writes}
OPS=${OPS:-10000}
STORAGE=${STORAGE:-memory}
TIMER_SCALE=${TIMER_SCALE:-20}
KEEP=${KEEP:-}
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(1 32 256)
bin=${BIN:-}
[ -n "$bin" ] || bin=$(cargo bench -p paxos-impl --bench runtime --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["bench"\],"crate_types":\["bin"\],"name":"runtime"' |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "no bench binary" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$KIND" = bound ]; then only=bound; kinds=none; else only=runtime; kinds=$KIND; fi
count() { # clients ops -> "instructions waiting commands"
    local out="$tmp/cg.$1.$2"
    BENCH_ONLY=$only BENCH_KINDS=$kinds BENCH_STORAGE=$STORAGE BENCH_CLIENTS=$1 BENCH_OPS=$2 \
        BENCH_TIMER_SCALE=$TIMER_SCALE BENCH_SECS=100000 BENCH_WARMUP_MS=0 \
        CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}" \
        valgrind --tool=callgrind --dump-before='runtime::stats::Sample::of' \
        --callgrind-out-file="$out" "$bin" --bench >/dev/null 2>&1
    # The first dump ends where the point's report begins (its latencies are sorted there).
    # (A build whose Sample::of was inlined has no such dump: its count includes the report.)
    [ ! -f "$out.1" ] || mv "$out.1" "$out"
    local ir ops waiting
    ir=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$out")
    # Inclusive instructions of the waits for input (wait.rs: looking, yielding, sleeping).
    waiting=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
        grep 'paxos_impl::wait::recv_deadline' | awk '{gsub(",", "", $1); s += $1} END {print s + 0}')
    ops=$(grep -o '"ops_total": [0-9]*' "${CARGO_TARGET_DIR:-target}/bench/report.json" | head -1 |
        grep -o '[0-9]*$')
    [ -z "$KEEP" ] || { mkdir -p "$KEEP"; cp "$out" "$KEEP/"; echo "$ops" >"$KEEP/ops.$1.$2"; }
    echo "$ir $waiting $ops"
}
printf "%-8s %-7s %12s %14s %14s\n" storage clients kind "instr/command" "of which wait"
for n in "${clients[@]}"; do
    read -r ir1 w1 ops1 < <(count "$n" "$OPS")
    read -r ir2 w2 ops2 < <(count "$n" $((OPS * 3)))
    printf "%-8s %-7s %12s %14s %14s\n" "$STORAGE" "$n" "$KIND" \
        "$(( (ir2 - ir1) / (ops2 - ops1) ))" "$(( (w2 - w1) / (ops2 - ops1) ))"
done
