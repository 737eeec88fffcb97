// Command ledgerctl is the wallet ledger's admin tool. It reads the
// database URL from WALLET_DATABASE_URL, like walletd.
//
//	ledgerctl verify   check every ledger invariant and the audit chain
//
// verify exits 0 when everything holds, 1 with a report when anything is
// off, and 2 when it cannot run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

// Config is ledgerctl's configuration, read from the environment.
type Config struct {
	DatabaseURL string `env:"WALLET_DATABASE_URL,required,notEmpty" secret:"true"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(os.Args) == 2 && (os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help") {
		fmt.Println("usage: ledgerctl verify   (reads WALLET_DATABASE_URL)")
		return
	}
	if len(os.Args) != 2 || os.Args[1] != "verify" {
		fmt.Fprintln(os.Stderr, "usage: ledgerctl verify   (reads WALLET_DATABASE_URL)")
		os.Exit(2)
	}
	code, err := verify(ctx, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledgerctl:", err)
	}
	os.Exit(code)
}

// verify prints the invariant report to w and returns the exit code.
func verify(ctx context.Context, w io.Writer) (int, error) {
	cfg, err := config.Load[Config]()
	if err != nil {
		return 2, err
	}
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return 2, err
	}
	defer pool.Close()

	found, err := postgres.New(pool, postgres.Options{}).Verify(ctx)
	if err != nil {
		return 2, err
	}
	if len(found) == 0 {
		fmt.Fprintln(w, "ok: postings balance, balances match postings, no negative wallets, holds within balances, reversals within amounts, audit chains intact")
		return 0, nil
	}
	fmt.Fprintf(w, "FAILED: %d violation(s)\n", len(found))
	for _, v := range found {
		fmt.Fprintf(w, "  %s\n", v)
	}
	return 1, nil
}
