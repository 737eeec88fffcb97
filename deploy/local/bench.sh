#!/usr/bin/env bash
# Runs the benchmark harness (bin/ledgerbench) against the local stack,
# starting the stack with the benchmark rate limit policy when none is
# running. For the comparisons it also starts a second wallet with
# WALLET_MODE=baseline (gRPC 9095, admin 9195) and a second gateway with
# the rate limiter off (HTTP 8081, admin 9196). It stops what it started.
# Called by `make bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."

ready() { curl -fsS "$1" >/dev/null 2>&1; }

pids=()
stop_all() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all EXIT

# start NAME READY_URL LOG COMMAND... starts a process and waits up to 30 s
# for READY_URL to return 200.
start() {
	local name=$1 url=$2 log=$3
	shift 3
	"$@" >"$log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 1 300); do
		ready "$url" && return 0
		kill -0 "$pid" 2>/dev/null || { echo "$name exited during start; see $log" >&2; exit 1; }
		sleep 0.1
	done
	echo "$name did not become ready within 30 s; see $log" >&2
	exit 1
}

mkdir -p .run
if ready http://127.0.0.1:9190/readyz; then
	echo "using the running stack; its rate limit policy may throttle the REST workloads" >&2
else
	echo "starting the stack with deploy/ratelimit/bench-policies.yaml" >&2
	RATELIMIT_POLICY_FILE=deploy/ratelimit/bench-policies.yaml LOG_LEVEL=warn \
		start stack http://127.0.0.1:9190/readyz .run/bench-stack.log deploy/local/run.sh
fi

# The baseline wallet connects as the wallet role, like walletd in make run.
baseline_url=$(sed -E "s|^([a-z]+://)([^@/]*@)?|\1ledger_wallet@|" <<<"$LEDGER_DATABASE_URL")
WALLET_DATABASE_URL=$baseline_url WALLET_MODE=baseline WALLET_MIGRATE=false WALLET_GRPC_ADDR=127.0.0.1:9095 WALLET_ADMIN_ADDR=127.0.0.1:9195 LOG_LEVEL=warn \
	start "baseline wallet" http://127.0.0.1:9195/readyz .run/bench-baseline-wallet.log bin/walletd
GATEWAY_RATELIMIT_ADDR=off GATEWAY_HTTP_ADDR=127.0.0.1:8081 GATEWAY_ADMIN_ADDR=127.0.0.1:9196 LOG_LEVEL=warn \
	start "gateway without the rate limiter" http://127.0.0.1:9196/readyz .run/bench-unlimited-gateway.log bin/gatewayd

# ledgerbench runs ANALYZE, which only the tables' owner may do.
WALLET_DATABASE_URL=$LEDGER_DATABASE_URL bin/ledgerbench ${FULL:+-full} -out .run/bench-results.json \
	-baseline-wallet 127.0.0.1:9095 -unlimited-gateway http://127.0.0.1:8081
echo "JSON summary: .run/bench-results.json" >&2
