package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/pgtest"
	"github.com/advancia-pay/ledger/services/wallet/migrations"
)

var template = pgtest.NewTemplate("ledgerctl", migrations.Up)

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

func TestVerifyReportsBrokenBalance(t *testing.T) {
	url := template.NewDatabase(t)
	t.Setenv("WALLET_DATABASE_URL", url)
	ctx := context.Background()

	var out bytes.Buffer
	code, err := verify(ctx, &out)
	if err != nil || code != 0 || !strings.HasPrefix(out.String(), "ok:") {
		t.Fatalf("verify on an empty ledger = %d, %v, %q; want 0 and ok", code, err, out.String())
	}

	db := openWallet(t, url)
	if _, err := db.Exec(ctx, `INSERT INTO wallets (id, owner_id, kind, currency, balance, created_at)
		VALUES ('0190c6a4-0000-7000-8000-000000000001', 'u', 'user', 'USD', 5, now())`); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	code, err = verify(ctx, &out)
	if err != nil || code != 1 {
		t.Fatalf("verify on a broken ledger = %d, %v; want 1", code, err)
	}
	if !strings.Contains(out.String(), "wallet 0190c6a4-0000-7000-8000-000000000001 has balance 5 but its postings sum to 0") {
		t.Errorf("report %q does not name the wallet", out.String())
	}
}

func TestVerifyNeedsDatabaseURL(t *testing.T) {
	t.Setenv("WALLET_DATABASE_URL", "")
	code, err := verify(context.Background(), &bytes.Buffer{})
	if code != 2 || err == nil || !strings.Contains(err.Error(), "WALLET_DATABASE_URL") {
		t.Errorf("verify without a URL = %d, %v; want 2 naming WALLET_DATABASE_URL", code, err)
	}
}
