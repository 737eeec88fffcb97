package auth

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newSigner(t *testing.T, s Settings) *Signer {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(s, key)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func TestES256PinnedVerification(t *testing.T) {
	signer := newSigner(t, testSettings)
	s := testSettings
	s.PublicKeys = signer.PublicKeys()
	s.Algorithms = []string{"ES256"}
	v, err := NewVerifier(s)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	good, err := signer.Issue("user-1", []string{RoleService}, time.Hour, now, map[string]any{"client_id": "cl_1"})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Verify(good); err != nil || id.Subject != "user-1" || !id.IsService() {
		t.Errorf("Verify = %+v, %v; want user-1 with the service role", id, err)
	}

	stranger := newSigner(t, testSettings)
	fromStranger, _ := stranger.Issue("user-1", nil, time.Hour, now, nil)
	hs256, _ := Issue(testSettings, "user-1", nil, time.Hour, now)
	for name, token := range map[string]string{"unknown key": fromStranger, "HS256 while ES256 is pinned": hs256} {
		if _, err := v.Verify(token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestJWKSRoundTrip(t *testing.T) {
	signer := newSigner(t, testSettings)
	raw, err := EncodeJWKS(signer.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseJWKS(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := keys[signer.KeyID()]
	if got == nil || !got.Equal(signer.PublicKeys()[signer.KeyID()]) {
		t.Errorf("parsed keys %v, want the signer's key under %s", keys, signer.KeyID())
	}
	if _, err := ParseJWKS([]byte(`{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}`)); err == nil {
		t.Error("a set with no P-256 key parsed without error")
	}
}

func TestRemoteKeysFollowRotation(t *testing.T) {
	first, second := newSigner(t, testSettings), newSigner(t, testSettings)
	var current atomic.Pointer[Signer]
	current.Store(first)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		raw, _ := EncodeJWKS(current.Load().PublicKeys())
		_, _ = w.Write(raw)
	}))
	defer server.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	remote, err := NewRemoteKeys(ctx, server.URL, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := testSettings
	s.Remote = remote
	s.Algorithms = []string{jwt.SigningMethodES256.Alg()}
	v, err := NewVerifier(s)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	old, _ := first.Issue("user-1", nil, time.Hour, now, nil)
	rotated, _ := second.Issue("user-1", nil, time.Hour, now, nil)
	if _, err := v.Verify(old); err != nil {
		t.Errorf("token of the published key: %v", err)
	}
	if _, err := v.Verify(rotated); err == nil {
		t.Error("token of an unpublished key verified")
	}
	current.Store(second)
	if err := remote.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(rotated); err != nil {
		t.Errorf("token of the rotated key after refresh: %v", err)
	}
}

func TestParseJWKSCoordinates(t *testing.T) {
	// A key whose X starts with a zero byte, found by trying keys: about
	// one P-256 key in 256 has one.
	var key *ecdsa.PublicKey
	for key == nil {
		candidate, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if point, _ := candidate.PublicKey.Bytes(); point[1] == 0 {
			key = &candidate.PublicKey
		}
	}
	point, _ := key.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	set := func(x, y []byte) []byte {
		return []byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"` + b64(x) + `","y":"` + b64(y) + `"}]}`)
	}
	x, y := point[1:33], point[33:]

	keys, err := ParseJWKS(set(x[1:], y))
	if err != nil || keys["k1"] == nil || !keys["k1"].Equal(key) {
		t.Errorf("X without its leading zero: keys %v, error %v; want the key under k1", keys, err)
	}

	offCurve := append([]byte{}, y...)
	offCurve[31] ^= 1
	if _, err := ParseJWKS(set(x, offCurve)); err == nil || !strings.Contains(err.Error(), "not a point on P-256") {
		t.Errorf("point off the curve: error %v, want not a point on P-256", err)
	}
	if _, err := ParseJWKS(set(append([]byte{0}, x...), y)); err == nil || !strings.Contains(err.Error(), "33 bytes") {
		t.Errorf("33-byte X: error %v, want a length error", err)
	}
}
