package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/advancia-pay/ledger/gateway/clients"
	"github.com/advancia-pay/ledger/gateway/clients/migrations"
	"github.com/advancia-pay/ledger/pkg/config"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// clientsConfig is the configuration of the clients commands.
type clientsConfig struct {
	DatabaseURL string `env:"GATEWAY_DATABASE_URL,required,notEmpty" secret:"true"`
	// MigrationDatabaseURL applies the gateway migrations first, as
	// gatewayd does; empty means GATEWAY_DATABASE_URL.
	MigrationDatabaseURL string `env:"GATEWAY_MIGRATION_DATABASE_URL" secret:"true"`
	Migrate              bool   `env:"GATEWAY_MIGRATE" envDefault:"true"`
}

// clientsCommand runs "clients create|list|revoke" and returns the exit
// code.
func nullLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func clientsCommand(ctx context.Context, args []string, w io.Writer) (int, error) {
	cfg, err := config.Load[clientsConfig]()
	if err != nil {
		return 2, err
	}
	pool, err := pgmigrate.Open(ctx, cfg.DatabaseURL, cfg.MigrationDatabaseURL, migrations.Schema, cfg.Migrate, migrations.Up, nullLogger())
	if err != nil {
		return 2, err
	}
	defer pool.Close()
	store, err := clients.NewStore(pool, bcrypt.DefaultCost)
	if err != nil {
		return 2, err
	}

	switch args[0] {
	case "create":
		return 0, createClient(ctx, store, args[1:], w)
	case "list":
		return 0, listClients(ctx, store, w)
	case "revoke":
		if len(args) != 2 {
			return 2, errors.New("usage: ledgerctl clients revoke CLIENT_ID")
		}
		if err := store.Revoke(ctx, args[1]); err != nil {
			return 2, err
		}
		fmt.Fprintln(w, "revoked", args[1])
		return 0, nil
	}
	return 2, fmt.Errorf("unknown clients command %q; use create, list or revoke", args[0])
}

func createClient(ctx context.Context, store *clients.Store, args []string, w io.Writer) error {
	flags := flag.NewFlagSet("clients create", flag.ContinueOnError)
	owner := flags.String("owner", "", "subject the client's tokens act for (user or service id); required")
	name := flags.String("name", "", "a label for people")
	role := flags.String("role", "", `"service" to grant the service role`)
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *owner == "" {
		return errors.New("-owner is required")
	}
	var roles []string
	if *role != "" {
		if *role != "service" {
			return fmt.Errorf("-role %q is unknown; the only role is service", *role)
		}
		roles = []string{*role}
	}
	c, secret, err := store.Create(ctx, *owner, *name, roles)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "client_id:     %s\nclient_secret: %s\n(the secret is not stored and cannot be shown again)\n", c.ID, secret)
	return nil
}

func listClients(ctx context.Context, store *clients.Store, w io.Writer) error {
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	for _, c := range list {
		state := "active"
		if c.RevokedAt != nil {
			state = "revoked " + c.RevokedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(w, "%s  owner=%s  roles=%s  name=%q  %s\n", c.ID, c.Owner, strings.Join(c.Roles, ","), c.Name, state)
	}
	return nil
}
