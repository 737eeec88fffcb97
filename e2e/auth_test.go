package e2e

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/advancia-pay/ledger/gateway/clients"
	"github.com/advancia-pay/ledger/gateway/clients/migrations"
	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/pgmigrate"
)

// TestGatewayRejectsBadTokens sends tokens that must never pass: each gets
// 401 before any service is called (the request ids never reach walletd).
func TestGatewayRejectsBadTokens(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	good := s.token(t, "user-1")
	now := time.Now()

	expired, _ := s.signer.Issue("user-1", nil, time.Minute, now.Add(-time.Hour), nil)
	otherAudience, _ := auth.NewSigner(auth.Settings{Issuer: jwtIssuer, Audience: "someone-else"}, mustKey(t))
	wrongAudience, _ := otherAudience.Issue("user-1", nil, time.Hour, now, nil)
	hs256, _ := auth.Issue(s.settings, "user-1", nil, time.Hour, now) // the right secret, the wrong algorithm
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	sig := []byte(parts[2])
	sig[5] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	oversized := strings.Repeat("a", 9<<10)

	for name, token := range map[string]string{
		"expired": expired, "wrong audience": wrongAudience, "HS256 where ES256 is pinned": hs256,
		"alg none": none, "tampered signature": tampered, "header over 8 KiB": oversized,
	} {
		resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: token})
		expectProblem(t, resp, http.StatusUnauthorized, "unauthenticated")
		if t.Failed() {
			t.Fatalf("%s", name)
		}
	}
	if resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: good}); resp.status != http.StatusOK {
		t.Errorf("good token: %s", resp.describe())
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestTokenExchange covers POST /v1/auth/token, the published JWK Set and
// the lockout after failed exchanges.
func TestTokenExchange(t *testing.T) {
	t.Parallel()
	s := startStack(t, withPolicy(generousPolicy+`  - {name: auth-failures-per-client, route_class: auth_failure, key_by: [client], limit: 5, window: 15m, on_redis_failure: closed}
  - {name: auth-failures-per-ip, route_class: auth_failure, key_by: [ip], limit: 5, window: 15m, on_redis_failure: closed}
`))
	store := clientStore(t, s)
	locked, lockedSecret, err := store.Create(context.Background(), "clinic-1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret, err := store.Create(context.Background(), "clinic-2", "", []string{auth.RoleService})
	if err != nil {
		t.Fatal(err)
	}

	exchange := func(id, secret string) response {
		body, _ := json.Marshal(map[string]string{"client_id": id, "client_secret": secret})
		return s.send(t, call{method: http.MethodPost, path: "/v1/auth/token", body: string(body)})
	}

	for i := range 5 {
		expectProblem(t, exchange(locked.ID, "cs_wrong"), http.StatusUnauthorized, "unauthenticated")
		if t.Failed() {
			t.Fatalf("bad secret %d", i+1)
		}
	}
	expectProblem(t, exchange(locked.ID, "cs_wrong"), http.StatusTooManyRequests, "rate_limited")
	expectProblem(t, exchange(locked.ID, lockedSecret), http.StatusTooManyRequests, "rate_limited")

	// The first IP is locked out too; another client from another
	// loopback address is not.
	expectProblem(t, exchange(other.ID, otherSecret), http.StatusTooManyRequests, "rate_limited")
	s.client = clientFrom(t, "127.0.0.2")
	resp := exchange(other.ID, otherSecret)
	var token struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.status != http.StatusOK || json.Unmarshal(resp.body, &token) != nil || token.TokenType != "Bearer" || token.ExpiresIn != 900 {
		t.Fatalf("exchange for another client: %s", resp.describe())
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token.AccessToken, claims); err != nil || claims["sub"] != "clinic-2" || claims["client_id"] != other.ID {
		t.Errorf("token claims = %v, %v; want sub clinic-2 and the client id", claims, err)
	}
	if resp := s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: token.AccessToken}); resp.status != http.StatusOK {
		t.Errorf("request with the exchanged token: %s", resp.describe())
	}

	jwks := s.send(t, call{method: http.MethodGet, path: "/.well-known/jwks.json"})
	if keys, err := auth.ParseJWKS(jwks.body); err != nil || keys[s.signer.KeyID()] == nil {
		t.Errorf("JWK Set = %s, %v; want the stack's key", jwks.body, err)
	}
	if got := jwks.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", got)
	}
}

// clientStore opens the stack's API clients, as ledgerctl clients does.
func clientStore(t *testing.T, s *stack) *clients.Store {
	t.Helper()
	pool, err := pgmigrate.NewPool(context.Background(), s.databaseURL, migrations.Schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := clients.NewStore(pool, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// clientFrom returns an HTTP client whose connections come from the given
// loopback source address.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DialContext: dialer.DialContext}}
	t.Cleanup(client.CloseIdleConnections)
	return client
}
