package payments_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/pgtest"
	"github.com/advancia-pay/ledger/services/payment/internal/cards"
	"github.com/advancia-pay/ledger/services/payment/internal/payments"
	"github.com/advancia-pay/ledger/services/payment/internal/postgres"
	"github.com/advancia-pay/ledger/services/payment/internal/stripeclient"
	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
	"github.com/advancia-pay/ledger/services/payment/migrations"
)

var template = pgtest.NewTemplate("payment", migrations.Up).As(migrations.Role)

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

var (
	ctx     = context.Background()
	patient = auth.Identity{Subject: "patient-1"}
	billing = auth.Identity{Subject: "billing", Roles: []string{auth.RoleService}}
)

const (
	payerWallet = "0190c6a4-0000-7000-8000-00000000000a"
	payeeWallet = "0190c6a4-0000-7000-8000-00000000000b"
)

// ledger is an in-memory stand-in for the wallet service that keeps its
// contract: one effect per idempotency key, insufficient funds refused.
type ledger struct {
	mu       sync.Mutex
	balances map[string]int64
	effects  map[string]string // key -> transaction id
}

func newLedger() *ledger {
	return &ledger{balances: map[string]int64{payerWallet: 1000}, effects: map[string]string{}}
}

func (l *ledger) apply(key string, move func() error) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id, ok := l.effects[key]; ok {
		return id, nil
	}
	if err := move(); err != nil {
		return "", err
	}
	id := fmt.Sprintf("0190c6a4-0000-7000-9000-%012d", len(l.effects)+1)
	l.effects[key] = id
	return id, nil
}

func (l *ledger) Transfer(_ context.Context, from, to string, amount int64, _, key string) (string, error) {
	return l.apply(key, func() error {
		if l.balances[from] < amount {
			return apperr.New(apperr.InsufficientFunds, "wallet %s has %d", from, l.balances[from])
		}
		l.balances[from] -= amount
		l.balances[to] += amount
		return nil
	})
}

func (l *ledger) Credit(_ context.Context, walletID string, amount int64, _, key string) (string, error) {
	return l.apply(key, func() error { l.balances[walletID] += amount; return nil })
}

func (l *ledger) Reverse(_ context.Context, _ string, amount int64, _, key string) (string, error) {
	return l.apply(key, func() error { l.balances[payeeWallet] -= amount; return nil })
}

func (l *ledger) balance(wallet string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.balances[wallet]
}

func (l *ledger) effectCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.effects)
}

type env struct {
	svc    *payments.Service
	store  *postgres.Store
	pool   *pgxpool.Pool
	ledger *ledger
	relay  *payments.Relay
	stripe *stripetest.Fake
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool, err := postgres.NewPool(ctx, template.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	fake := stripetest.NewFake(t)
	fake.SetDelay(2 * time.Second)
	client := stripeclient.New(stripeclient.Config{
		APIKey: "sk_test_fake", BaseURL: fake.URL, HTTPClient: &http.Client{Timeout: 500 * time.Millisecond},
	})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := postgres.New(pool)
	l := newLedger()
	relay := payments.NewRelay(store, l, time.Hour, logger)
	return &env{
		svc:   payments.NewService(store, l, cards.New(client), relay, logger),
		store: store, pool: pool, ledger: l, relay: relay, stripe: fake,
	}
}

func walletPayment(key string, amount int64) payments.Payment {
	return payments.Payment{Method: payments.MethodWallet, Amount: amount, Currency: "USD",
		PayerWalletID: payerWallet, PayeeWalletID: payeeWallet, IdempotencyKey: key}
}

func cardPayment(key, method string, amount int64) payments.Payment {
	return payments.Payment{Method: payments.MethodCard, Amount: amount, Currency: "USD", PaymentMethod: method,
		PayeeWalletID: payeeWallet, IdempotencyKey: key, Metadata: map[string]string{"patient_id": "p-1"}}
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

const webhookSecret = "whsec_test_secret"

// event returns a Stripe event payload about a PaymentIntent.
func event(t *testing.T, id, eventType string, object map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2023-10-16", "created": time.Now().Unix(),
		"type": eventType, "data": map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signature returns a Stripe-Signature header for payload signed at ts.
func signature(payload []byte, secret string, ts time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", ts.Unix(), hex.EncodeToString(webhook.ComputeSignature(ts, payload, secret)))
}
