package clients_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/advancia-pay/ledger/gateway/clients"
	"github.com/advancia-pay/ledger/gateway/clients/migrations"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
	"github.com/advancia-pay/ledger/pkg/pgtest"
)

var template = pgtest.NewTemplate("gateway", migrations.Up).As(migrations.Role)

func TestMain(m *testing.M) {
	code := m.Run()
	template.Close()
	os.Exit(code)
}

func TestClientLifecycle(t *testing.T) {
	ctx := context.Background()
	pool, err := pgmigrate.NewPool(ctx, template.NewDatabase(t), migrations.Schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := clients.NewStore(pool, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}

	c, secret, err := store.Create(ctx, "clinic-7", "billing export", []string{"service"})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := pool.QueryRow(ctx, `SELECT secret_hash FROM clients WHERE id = $1`, c.ID).Scan(&stored); err != nil || stored == secret {
		t.Fatalf("stored secret = %q, %v; want a hash, not the secret", stored, err)
	}

	got, err := store.Authenticate(ctx, c.ID, secret)
	if err != nil || got.Owner != "clinic-7" || len(got.Roles) != 1 || got.Roles[0] != "service" {
		t.Errorf("Authenticate = %+v, %v; want clinic-7 with the service role", got, err)
	}
	for name, attempt := range map[string][2]string{
		"wrong secret": {c.ID, secret + "x"},
		"unknown id":   {"cl_00000000000000000000000000000000", secret},
		"malformed id": {"client-1", secret},
	} {
		if _, err := store.Authenticate(ctx, attempt[0], attempt[1]); !errors.Is(err, clients.ErrInvalidCredentials) {
			t.Errorf("%s: %v, want ErrInvalidCredentials", name, err)
		}
	}

	if err := store.Revoke(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Authenticate(ctx, c.ID, secret); !errors.Is(err, clients.ErrInvalidCredentials) {
		t.Errorf("revoked client: %v, want ErrInvalidCredentials", err)
	}
	if err := store.Revoke(ctx, "cl_00000000000000000000000000000000"); !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("revoke of an unknown client: %v, want ErrNotFound", err)
	}
	list, err := store.List(ctx)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Errorf("List = %+v, %v; want one revoked client", list, err)
	}
}
