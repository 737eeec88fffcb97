package main

import (
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/pkg/config"
)

func TestConfigMode(t *testing.T) {
	t.Setenv("WALLET_DATABASE_URL", "postgres://127.0.0.1/ledger")
	t.Setenv("LEDGER_JWT_SECRET", strings.Repeat("s", 32))

	for _, mode := range []string{"default", "baseline"} {
		t.Setenv("WALLET_MODE", mode)
		cfg, err := config.Load[Config]()
		if err != nil {
			t.Fatalf("WALLET_MODE=%s: %v", mode, err)
		}
		if cfg.Mode != mode {
			t.Errorf("WALLET_MODE=%s: Mode = %q", mode, cfg.Mode)
		}
	}

	t.Setenv("WALLET_MODE", "batched")
	_, err := config.Load[Config]()
	if err == nil || !strings.Contains(err.Error(), `WALLET_MODE is "batched", it must be default or baseline`) {
		t.Fatalf("WALLET_MODE=batched: error %v, want the mode named", err)
	}
}
