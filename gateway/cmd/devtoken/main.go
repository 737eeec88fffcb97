// Command devtoken prints a development bearer token, for curl sessions
// and local tools. Production tokens come from POST /v1/auth/token or an
// identity provider, never from this command.
//
//	devtoken -sub user-1                # a user, ES256 (LEDGER_JWT_SIGNING_KEY_FILE)
//	devtoken -sub billing -role service # a service that may credit
//	devtoken -init-keys .run            # create .run/jwt-signing-key.pem and .run/jwks.json once
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
)

func main() {
	sub := flag.String("sub", "", "subject (user or service id) the token is for")
	role := flag.String("role", "", `role to grant, "service" or empty for a plain user`)
	ttl := flag.Duration("ttl", 12*time.Hour, "how long the token stays valid")
	initKeys := flag.String("init-keys", "", "directory in which to create a development signing key and JWK Set, unless they exist")
	flag.Parse()

	var err error
	if *initKeys != "" {
		err = createKeys(*initKeys)
	} else {
		err = run(*sub, *role, *ttl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(2)
	}
}

func run(sub, role string, ttl time.Duration) error {
	if sub == "" {
		return errors.New("-sub is required, for example -sub user-1")
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
	_, signer, err := cfg.Load()
	if err != nil {
		return err
	}
	if signer == nil {
		return errors.New("LEDGER_JWT_SIGNING_KEY_FILE is not set; `make token` sets it")
	}
	token, err := signer.Issue(sub, roles, ttl, time.Now(), nil)
	if err != nil {
		return fmt.Errorf("issue token: %w", err)
	}
	fmt.Println(token)
	return nil
}

// createKeys writes dir/jwt-signing-key.pem (mode 0600) and dir/jwks.json
// with a new P-256 key, unless the key file exists.
func createKeys(dir string) error {
	keyPath := filepath.Join(dir, "jwt-signing-key.pem")
	if _, err := os.Stat(keyPath); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := auth.GenerateKey()
	if err != nil {
		return err
	}
	pemBytes, err := auth.EncodePrivateKey(key)
	if err != nil {
		return err
	}
	signer, err := auth.NewSigner(auth.Settings{}, key)
	if err != nil {
		return err
	}
	jwks, err := auth.EncodeJWKS(signer.PublicKeys())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), jwks, 0o644); err != nil { // #nosec G306 -- a JWK Set holds public keys only
		return err
	}
	return os.WriteFile(keyPath, pemBytes, 0o600)
}
