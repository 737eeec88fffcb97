package stack

import "github.com/advancia-pay/ledger/chaos/internal/proc"

// addrs are the loopback addresses of one stack.
type addrs struct {
	idempotencyGRPC, idempotencyAdmin string
	wallet1, wallet1Admin             string
	wallet2, wallet2Admin             string
	ratelimitGRPC, ratelimitAdmin     string
	stripe                            string
	paymentGRPC, paymentAdmin         string
	gatewayHTTP, gatewayAdmin         string
}

func newAddrs() (addrs, error) {
	var a addrs
	for _, field := range []*string{
		&a.idempotencyGRPC, &a.idempotencyAdmin, &a.wallet1, &a.wallet1Admin, &a.wallet2, &a.wallet2Admin,
		&a.ratelimitGRPC, &a.ratelimitAdmin, &a.stripe, &a.paymentGRPC, &a.paymentAdmin, &a.gatewayHTTP, &a.gatewayAdmin,
	} {
		addr, err := proc.FreeAddr()
		if err != nil {
			return addrs{}, err
		}
		*field = addr
	}
	return a, nil
}

// serviceSpec is a process of the stack before its binary path and log
// file are filled in.
type serviceSpec struct {
	proc.Spec
	binary   string
	readyURL string
}

// specs returns the processes in start order. Each one connects to the
// database as its own role and migrates as the owner, as in production.
func (s *Stack) specs(shared []string, a addrs, walletTarget, policyFile string) []serviceSpec {
	owner := s.OwnerURL()
	role := func(name string) string { return s.Postgres.URL(name, Database) }
	env := func(extra ...string) []string { return append(append([]string{}, shared...), extra...) }
	wallet := func(grpcAddr, adminAddr string) []string {
		return env(
			"WALLET_GRPC_ADDR="+grpcAddr,
			"WALLET_ADMIN_ADDR="+adminAddr,
			"WALLET_DATABASE_URL="+role("ledger_wallet"),
			"WALLET_MIGRATION_DATABASE_URL="+owner,
			"WALLET_REDIS_ADDR="+s.Redis.Addr,
			"WALLET_IDEMPOTENCY_ADDR=dns:///"+a.idempotencyGRPC,
			"WALLET_LOCK_TTL="+LockTTL.String(),
		)
	}
	return []serviceSpec{
		{Spec: proc.Spec{Name: Idempotency, Env: env(
			"IDEMPOTENCY_GRPC_ADDR="+a.idempotencyGRPC,
			"IDEMPOTENCY_ADMIN_ADDR="+a.idempotencyAdmin,
			"IDEMPOTENCY_DATABASE_URL="+role("ledger_idempotency"),
			"IDEMPOTENCY_MIGRATION_DATABASE_URL="+owner,
			"IDEMPOTENCY_REDIS_ADDR="+s.Redis.Addr,
		)}, binary: "idempotencyd", readyURL: readyz(a.idempotencyAdmin)},
		{Spec: proc.Spec{Name: Wallet1, Env: wallet(a.wallet1, a.wallet1Admin)}, binary: "walletd", readyURL: readyz(a.wallet1Admin)},
		{Spec: proc.Spec{Name: Wallet2, Env: wallet(a.wallet2, a.wallet2Admin)}, binary: "walletd", readyURL: readyz(a.wallet2Admin)},
		{Spec: proc.Spec{Name: RateLimit, Env: env(
			"RATELIMIT_GRPC_ADDR="+a.ratelimitGRPC,
			"RATELIMIT_ADMIN_ADDR="+a.ratelimitAdmin,
			"RATELIMIT_POLICY_FILE="+policyFile,
			"RATELIMIT_REDIS_ADDR="+s.Redis.Addr,
			// Two cores shared by a dozen race-detector processes make the
			// 50 ms default round trip too tight.
			"RATELIMIT_TIMEOUT=250ms",
		)}, binary: "ratelimitd", readyURL: readyz(a.ratelimitAdmin)},
		{Spec: proc.Spec{Name: StripeFake, Args: []string{"-addr", a.stripe}}, binary: "stripefake",
			readyURL: "http://" + a.stripe + "/_fake/stats"},
		{Spec: proc.Spec{Name: Payment, Env: env(
			"PAYMENT_GRPC_ADDR="+a.paymentGRPC,
			"PAYMENT_ADMIN_ADDR="+a.paymentAdmin,
			"PAYMENT_DATABASE_URL="+role("ledger_payment"),
			"PAYMENT_MIGRATION_DATABASE_URL="+owner,
			"PAYMENT_WALLET_ADDR="+walletTarget,
			"PAYMENT_IDEMPOTENCY_ADDR=dns:///"+a.idempotencyGRPC,
			"PAYMENT_RELAY_INTERVAL=200ms",
			"STRIPE_API_URL=http://"+a.stripe,
			"STRIPE_API_KEY=sk_test_chaos",
			"STRIPE_WEBHOOK_SECRET=whsec_chaos_suite",
			"STRIPE_TIMEOUT=3s",
		)}, binary: "paymentd", readyURL: readyz(a.paymentAdmin)},
		{Spec: proc.Spec{Name: Gateway, Env: env(
			"GATEWAY_HTTP_ADDR="+a.gatewayHTTP,
			"GATEWAY_ADMIN_ADDR="+a.gatewayAdmin,
			"GATEWAY_WALLET_ADDR="+walletTarget,
			"GATEWAY_PAYMENT_ADDR=dns:///"+a.paymentGRPC,
			"GATEWAY_RATELIMIT_ADDR=dns:///"+a.ratelimitGRPC,
			"GATEWAY_RATELIMIT_TIMEOUT=1s",
			"GATEWAY_REQUEST_TIMEOUT=5s",
		)}, binary: "gatewayd", readyURL: readyz(a.gatewayAdmin)},
	}
}

func readyz(adminAddr string) string { return "http://" + adminAddr + "/readyz" }
