package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSettings = Settings{
	Secret:   []byte("test-secret-of-at-least-thirty-two-bytes"),
	Issuer:   "issuer-a",
	Audience: "audience-a",
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	token, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "user-1", "iss": "issuer-a", "aud": "audience-a",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func TestVerifyAcceptsIssuedToken(t *testing.T) {
	v, err := NewVerifier(testSettings)
	if err != nil {
		t.Fatal(err)
	}
	token, err := Issue(testSettings, "svc-billing", []string{RoleService}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	id, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "svc-billing" || !id.IsService() {
		t.Errorf("identity = %+v, want svc-billing with the service role", id)
	}
}

func TestVerifyRejectsBadTokens(t *testing.T) {
	v, err := NewVerifier(testSettings)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	with := func(key string, value any) jwt.MapClaims {
		c := validClaims(now)
		if value == nil {
			delete(c, key)
		} else {
			c[key] = value
		}
		return c
	}

	cases := map[string]string{
		"other secret":    sign(t, jwt.SigningMethodHS256, []byte("another-secret-of-thirty-two-bytes!!"), validClaims(now)),
		"HS512":           sign(t, jwt.SigningMethodHS512, testSettings.Secret, validClaims(now)),
		"alg none":        sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims(now)),
		"expired":         sign(t, jwt.SigningMethodHS256, testSettings.Secret, with("exp", now.Add(-time.Hour).Unix())),
		"no expiry":       sign(t, jwt.SigningMethodHS256, testSettings.Secret, with("exp", nil)),
		"other issuer":    sign(t, jwt.SigningMethodHS256, testSettings.Secret, with("iss", "issuer-b")),
		"other audience":  sign(t, jwt.SigningMethodHS256, testSettings.Secret, with("aud", "audience-b")),
		"no subject":      sign(t, jwt.SigningMethodHS256, testSettings.Secret, with("sub", nil)),
		"issued later":    sign(t, jwt.SigningMethodHS256, testSettings.Secret, with("iat", now.Add(time.Hour).Unix())),
		"not a token":     "not-a-jwt",
		"empty":           "",
		"truncated token": sign(t, jwt.SigningMethodHS256, testSettings.Secret, validClaims(now))[:40],
	}
	for name, token := range cases {
		if _, err := v.Verify(token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestSettingsValidateReportsAll(t *testing.T) {
	err := Settings{Secret: []byte("short")}.Validate()
	if err == nil {
		t.Fatal("Validate = nil, want three problems")
	}
	for _, want := range []string{"5 bytes", "issuer", "audience"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	cases := map[string]string{
		"Bearer abc":  "abc",
		"bearer abc":  "abc",
		"Basic abc":   "",
		"Bearer":      "",
		"Bearerabc":   "",
		"Bearer  abc": "abc",
	}
	for header, want := range cases {
		if got := BearerToken(header); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestVerifyRejectsNonCanonicalBase64(t *testing.T) {
	v, err := NewVerifier(testSettings)
	if err != nil {
		t.Fatal(err)
	}
	token, err := Issue(testSettings, "svc-billing", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// An HS256 signature is 32 bytes, so the last of its 43 characters
	// carries 2 bits and 4 unused ones. Flipping the lowest bit of that
	// character's value keeps the decoded signature.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[len(token)-1])
	altered := token[:len(token)-1] + string(alphabet[last^1])

	if _, err := v.Verify(token); err != nil {
		t.Fatalf("Verify(original) = %v", err)
	}
	if _, err := v.Verify(altered); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(altered last character) = %v, want ErrInvalidToken", err)
	}
}
