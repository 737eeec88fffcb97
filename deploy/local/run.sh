#!/usr/bin/env bash
# Runs the local stack in the foreground: creates the development database
# if needed, starts idempotencyd, ratelimitd, stripe-mock, walletd and
# paymentd (the database services apply their migrations) and gatewayd on
# 127.0.0.1, prints where to reach them, and stops them all
# on Ctrl-C.
# Called by `make run`, which builds bin/ first.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${LEDGER_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/ledger?sslmode=disable}"
: "${LEDGER_JWT_SECRET:?LEDGER_JWT_SECRET must be set (make run sets a development value)}"
export LEDGER_JWT_SECRET
# LEDGER_DATABASE_URL is the owner: it applies the migrations, which create
# one login role per service (no password; the local server trusts
# 127.0.0.1). Each service then connects as its own role.
as_role() { sed -E "s|^([a-z]+://)([^@/]*@)?|\1$1@|" <<<"$LEDGER_DATABASE_URL"; }
export WALLET_DATABASE_URL="${WALLET_DATABASE_URL:-$(as_role ledger_wallet)}"
export IDEMPOTENCY_DATABASE_URL="${IDEMPOTENCY_DATABASE_URL:-$(as_role ledger_idempotency)}"
export PAYMENT_DATABASE_URL="${PAYMENT_DATABASE_URL:-$(as_role ledger_payment)}"
export GATEWAY_DATABASE_URL="${GATEWAY_DATABASE_URL:-$(as_role ledger_gateway)}"
for service in WALLET IDEMPOTENCY PAYMENT GATEWAY; do
	variable=${service}_MIGRATION_DATABASE_URL
	[[ -n ${!variable:-} ]] || export "$variable=$LEDGER_DATABASE_URL"
done
# Stripe is stripe-mock locally; these are development values, not secrets.
export STRIPE_API_URL="${STRIPE_API_URL:-http://127.0.0.1:12111}"
export STRIPE_API_KEY="${STRIPE_API_KEY:-sk_test_123}"
export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_local_development_only}"

create_database() {
	local name admin
	name=$(sed -E 's|^[a-z]+://[^/]*/([^?]+).*|\1|' <<<"$LEDGER_DATABASE_URL")
	admin=$(sed -E "s|/${name}(\?\|$)|/postgres\1|" <<<"$LEDGER_DATABASE_URL")
	if ! command -v psql >/dev/null; then
		echo "psql not found; make sure the database $name exists" >&2
		return
	fi
	if [[ -z $(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
		echo "creating database $name"
		psql "$admin" -qc "CREATE DATABASE \"$name\""
	fi
}

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping: ${pids[*]}"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait "${pids[@]}" 2>/dev/null || true
	echo "stopped"
}
# Ctrl-C reaches only this script: the services run in their own sessions
# (setsid), so they stop once, by the SIGTERM that stop sends.
trap 'stop; exit 0' INT TERM
trap stop EXIT

wait_ready() {
	local name=$1 url=$2
	for _ in $(seq 1 100); do
		if curl -fsS "$url" >/dev/null 2>&1; then return 0; fi
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || { echo "$name exited during start; see its log above" >&2; exit 1; }
		done
		sleep 0.1
	done
	echo "$name did not become ready at $url within 10 s" >&2
	exit 1
}

create_database

mkdir -p .run
bin/devtoken -init-keys .run
setsid bin/idempotencyd > >(trap '' INT TERM; exec tee .run/idempotency.log) 2>&1 &
pids+=($!)
wait_ready idempotency http://127.0.0.1:9193/readyz

setsid bin/ratelimitd > >(trap '' INT TERM; exec tee .run/ratelimit.log) 2>&1 &
pids+=($!)
wait_ready ratelimit http://127.0.0.1:9194/readyz

# Both stripe-mock listeners on loopback: given only one address, it opens
# the other on every interface.
setsid .bin/stripe-mock -http-addr 127.0.0.1:12111 -https-addr 127.0.0.1:12112 > .run/stripe-mock.log 2>&1 &
pids+=($!)

setsid bin/walletd > >(trap '' INT TERM; exec tee .run/wallet.log) 2>&1 &
pids+=($!)
wait_ready wallet http://127.0.0.1:9191/readyz

setsid bin/paymentd > >(trap '' INT TERM; exec tee .run/payment.log) 2>&1 &
pids+=($!)
wait_ready payment http://127.0.0.1:9192/readyz

setsid bin/gatewayd > >(trap '' INT TERM; exec tee .run/gateway.log) 2>&1 &
pids+=($!)
wait_ready gateway http://127.0.0.1:9190/readyz

cat <<MSG

Advancia Pay Ledger is running (logs also in .run/):
  REST gateway     http://127.0.0.1:8080/v1/   (OpenAPI at /openapi.json)
  gateway admin    http://127.0.0.1:9190/healthz /readyz /metrics
  wallet gRPC      127.0.0.1:9091
  wallet admin     http://127.0.0.1:9191/healthz /readyz /metrics
  idempotency gRPC 127.0.0.1:9093 (internal; admin on http://127.0.0.1:9193)
  payment gRPC     127.0.0.1:9092 (admin on http://127.0.0.1:9192; Stripe is
                   stripe-mock on http://127.0.0.1:12111)
  Stripe webhooks  POST http://127.0.0.1:8080/webhooks/stripe, secret $STRIPE_WEBHOOK_SECRET
  ratelimit gRPC   127.0.0.1:9094 (internal; admin on http://127.0.0.1:9194;
                   policy deploy/ratelimit/policies.yaml, reload: kill -HUP <pid>)
  database         $(sed -E 's|://([^:@/]*):[^@]*@|://\1:***@|' <<<"$WALLET_DATABASE_URL")
Get a token with:  make -s token SUB=user-1   (ROLE=service to credit)
Press Ctrl-C to stop.

MSG
status=0
wait -n "${pids[@]}" || status=$?
echo "a service exited with status $status; stopping the rest" >&2
exit 1
