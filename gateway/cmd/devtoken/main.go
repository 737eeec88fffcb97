// Command devtoken prints a development bearer token signed with
// LEDGER_JWT_SECRET, for curl sessions and local tools. Production tokens
// are issued by an identity provider, never by this command.
//
//	devtoken -sub user-1                # a user
//	devtoken -sub billing -role service # a service that may credit
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
)

func main() {
	sub := flag.String("sub", "", "subject (user or service id) the token is for; required")
	role := flag.String("role", "", `role to grant, "service" or empty for a plain user`)
	ttl := flag.Duration("ttl", 12*time.Hour, "how long the token stays valid")
	flag.Parse()

	if err := run(*sub, *role, *ttl); err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(2)
	}
}

func run(sub, role string, ttl time.Duration) error {
	if sub == "" {
		return fmt.Errorf("-sub is required, for example -sub user-1")
	}
	var roles []string
	switch role {
	case "":
	case auth.RoleService:
		roles = []string{auth.RoleService}
	default:
		return fmt.Errorf("-role %q is unknown; the only role is %q", role, auth.RoleService)
	}

	cfg, err := config.Load[auth.Config]()
	if err != nil {
		return err
	}
	token, err := auth.Issue(cfg.Settings(), sub, roles, ttl, time.Now())
	if err != nil {
		return fmt.Errorf("issue token: %w", err)
	}
	fmt.Println(token)
	return nil
}
