#!/usr/bin/env bash
# `make bench-cluster`: a fresh 3-process cluster on loopback (data in target/bench/cluster-data,
# peers on 7301-7303, clients on 7401-7403), `paxos-impl client ... bench` at 1 and 64 clients,
# results in target/bench/cluster.json (beside `make bench`'s report.json), then the cluster is
# stopped (by the pids cluster.sh saved), whatever happened.
set -euo pipefail
bin=target/release/paxos-impl
export CLUSTER_DIR=target/bench/cluster-data CLUSTER_PEER_PORT=7301 CLUSTER_CLIENT_PORT=7401
clients=127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403
secs=${BENCH_CLUSTER_SECS:-5}
if [ -s "$CLUSTER_DIR/pids" ]; then
    echo "a bench cluster is already running (pids in $CLUSTER_DIR/pids)" >&2
    exit 1
fi
rm -rf "$CLUSTER_DIR"
bash impl/scripts/cluster.sh start >/dev/null
trap 'bash impl/scripts/cluster.sh stop >/dev/null' EXIT
# Wait until every replica answers and one leads.
for _ in $(seq 50); do
    if "$bin" client --cluster "$clients" --timeout 1s status 2>/dev/null | grep -q ': leader '; then
        break
    fi
    sleep 0.2
done
"$bin" client --cluster "$clients" status
"$bin" client --cluster "$clients" bench --clients 1,64 --secs "$secs" --json target/bench/cluster.json
