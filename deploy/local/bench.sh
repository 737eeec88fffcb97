#!/usr/bin/env bash
# Runs the benchmark harness (bin/ledgerbench) against the local stack,
# starting the stack with the benchmark rate limit policy when none is
# running, and stopping what it started. Called by `make bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."

ready() { curl -fsS http://127.0.0.1:9190/readyz >/dev/null 2>&1; }

started=""
stop_stack() {
	if [[ -n $started ]]; then
		kill -TERM "$started" 2>/dev/null || true
		wait "$started" 2>/dev/null || true
	fi
}
trap stop_stack EXIT

if ready; then
	echo "using the running stack; its rate limit policy may throttle the REST workloads" >&2
else
	echo "starting the stack with deploy/ratelimit/bench-policies.yaml" >&2
	RATELIMIT_POLICY_FILE=deploy/ratelimit/bench-policies.yaml LOG_LEVEL=warn \
		deploy/local/run.sh > .run/bench-stack.log 2>&1 &
	started=$!
	for _ in $(seq 1 300); do
		ready && break
		kill -0 "$started" 2>/dev/null || { echo "the stack exited during start; see .run/bench-stack.log" >&2; exit 1; }
		sleep 0.1
	done
	ready || { echo "the stack did not become ready within 30 s; see .run/bench-stack.log" >&2; exit 1; }
fi

export WALLET_DATABASE_URL="${WALLET_DATABASE_URL:-$LEDGER_DATABASE_URL}"
bin/ledgerbench ${FULL:+-full} -out .run/bench-results.json
echo "JSON summary: .run/bench-results.json" >&2
