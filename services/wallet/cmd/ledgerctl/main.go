// Command ledgerctl is the ledger's admin tool. It reads database URLs from
// the environment, like the services.
//
//	ledgerctl verify
//	ledgerctl clients create -owner ID [-name N] [-role service]
//	ledgerctl clients list
//	ledgerctl clients revoke CLIENT_ID
//	ledgerctl users export OWNER -operator NAME [-out FILE]
//	ledgerctl users erase OWNER -operator NAME
//
// verify checks every ledger invariant and the audit chain, reading
// WALLET_DATABASE_URL. The clients commands manage API clients in
// GATEWAY_DATABASE_URL; create prints the new secret once. The users
// commands export or erase one owner's personal data across every schema,
// as the owner of the database in LEDGER_DATABASE_URL, and record that in
// wallet.privacy_events.
//
// verify exits 0 when everything holds, 1 with a report when anything is
// off, and 2 when it cannot run. The clients and users commands exit 0 or
// 2, and users erase exits 1 when the ledger holds no record of the owner.
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

	var code int
	var err error
	switch {
	case len(os.Args) == 2 && (os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help"):
		fmt.Print(usage)
		return
	case len(os.Args) == 2 && os.Args[1] == "verify":
		code, err = verify(ctx, os.Stdout)
	case len(os.Args) >= 3 && os.Args[1] == "clients":
		code, err = clientsCommand(ctx, os.Args[2:], os.Stdout)
	case len(os.Args) >= 3 && os.Args[1] == "users":
		code, err = usersCommand(ctx, os.Args[2:], os.Stdout)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledgerctl:", err)
	}
	os.Exit(code)
}

const usage = `usage:
  ledgerctl verify                                    (reads WALLET_DATABASE_URL)
  ledgerctl clients create -owner ID [-name NAME] [-role service]
  ledgerctl clients list
  ledgerctl clients revoke CLIENT_ID                  (clients read GATEWAY_DATABASE_URL)
  ledgerctl users export OWNER -operator NAME [-out FILE]
  ledgerctl users erase OWNER -operator NAME         (users read LEDGER_DATABASE_URL, the owner)
`

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
