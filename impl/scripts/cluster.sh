#!/usr/bin/env bash
# `make cluster`: three `paxos-impl serve` processes on loopback, data in target/cluster/.
# `make cluster-stop` (this script with `stop`) stops them; their data directories stay, so a
# second `make cluster` restarts the same cluster from disk. Logs: target/cluster/r<i>.log.
# CLUSTER_DIR, CLUSTER_PEER_PORT and CLUSTER_CLIENT_PORT (replica 0's ports; the others follow)
# choose another place (`make bench-cluster` runs its own cluster this way).
set -euo pipefail
bin=target/release/paxos-impl
dir=${CLUSTER_DIR:-target/cluster}
peer_port=${CLUSTER_PEER_PORT:-7101}
client_port=${CLUSTER_CLIENT_PORT:-7201}
peers=127.0.0.1:$peer_port,127.0.0.1:$((peer_port + 1)),127.0.0.1:$((peer_port + 2))
clients=127.0.0.1:$client_port,127.0.0.1:$((client_port + 1)),127.0.0.1:$((client_port + 2))
case "${1:-start}" in
start)
    mkdir -p "$dir"
    if [ -s "$dir/pids" ]; then
        echo "a cluster is already running (pids $(tr '\n' ' ' < "$dir/pids")); make cluster-stop first" >&2
        exit 1
    fi
    for i in 0 1 2; do
        [ -f "$dir/r$i/identity.json" ] || "$bin" init --data-dir "$dir/r$i" --id "$i" --cluster local >/dev/null
        nohup "$bin" serve --id "$i" --peers "$peers" --data-dir "$dir/r$i" --cluster local \
            --client-addr "127.0.0.1:$((client_port + i))" >>"$dir/r$i.log" 2>&1 &
        echo $! >>"$dir/pids"
    done
    echo "3 replicas running (pids $(tr '\n' ' ' < "$dir/pids")), logs in $dir/r*.log"
    echo "try:  $bin client --cluster $clients put k v"
    echo "      $bin client --cluster $clients get k"
    echo "      $bin client --cluster $clients status"
    echo "stop: make cluster-stop"
    ;;
stop)
    if [ -s "$dir/pids" ]; then
        # Only the processes this script started, by pid.
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/pids"
        rm -f "$dir/pids"
        echo "stopped"
    else
        echo "no cluster running"
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
