package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzSigner returns a Signer with the ES256 key of the fuzz test, fixed so
// that the committed corpus holds tokens that it signed. It is a test key
// only.
func fuzzSigner(t testing.TB) *Signer {
	t.Helper()
	scalar := sha256.Sum256([]byte("ledger auth fuzz test key"))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		t.Fatalf("parse the fuzz test key: %v", err)
	}
	signer, err := NewSigner(testSettings, key)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// fuzzVerifier returns a Verifier of HS256 tokens under the test secret
// and of ES256 tokens of signer.
func fuzzVerifier(t testing.TB, signer *Signer) *Verifier {
	t.Helper()
	settings := testSettings
	settings.PublicKeys = signer.PublicKeys()
	verifier, err := NewVerifier(settings)
	if err != nil {
		t.Fatal(err)
	}
	return verifier
}

// FuzzVerify checks that Verify never panics and that every failure wraps
// ErrInvalidToken. An accepted token must carry a signature over its first
// two segments made with a test key (the HS256 secret or the ES256 key),
// which this test checks with crypto/hmac and crypto/ecdsa directly. Its
// segments must be canonical base64url, so that no other string verifies
// as the same token, and the identity must be its payload's subject and
// roles.
func FuzzVerify(f *testing.F) {
	signer := fuzzSigner(f)
	verifier := fuzzVerifier(f, signer)

	// Tokens valid now, besides the committed ones valid until 2100, so
	// that the fuzzer always starts from accepted tokens of both kinds.
	now := time.Now()
	if token, err := Issue(testSettings, "svc-billing", []string{RoleService}, time.Hour, now); err == nil {
		f.Add(token)
	}
	if token, err := signer.Issue("user-1", nil, time.Hour, now, map[string]any{"client_id": "cl_1"}); err == nil {
		f.Add(token)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		id, err := verifier.Verify(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify(%q) error %v does not wrap ErrInvalidToken", raw, err)
			}
			return
		}
		if problem := checkAccepted(raw, id, testSettings.Secret, &signer.key.PublicKey); problem != "" {
			t.Fatalf("Verify(%q) accepted %+v, but %s", raw, id, problem)
		}
	})
}

// checkAccepted returns what is wrong with a token that Verify accepted as
// id, or "" when it is signed with secret (HS256) or publicKey (ES256) and
// id matches its payload.
func checkAccepted(raw string, id Identity, secret []byte, publicKey *ecdsa.PublicKey) string {
	segments := strings.Split(raw, ".")
	if len(segments) != 3 {
		return "it does not have three segments"
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if problem := decodeSegment(segments[0], &header); problem != "" {
		return "its header " + problem
	}
	signature, err := base64.RawURLEncoding.DecodeString(segments[2])
	if err != nil {
		return "its signature is not base64url: " + err.Error()
	}
	if base64.RawURLEncoding.EncodeToString(signature) != segments[2] {
		return "its signature is not in canonical base64url"
	}

	signed := []byte(segments[0] + "." + segments[1])
	switch header.Alg {
	case "HS256":
		mac := hmac.New(sha256.New, secret)
		mac.Write(signed)
		if !hmac.Equal(signature, mac.Sum(nil)) {
			return "its HS256 signature is not made with the test secret"
		}
	case "ES256":
		digest := sha256.Sum256(signed)
		if len(signature) != 64 {
			return "its ES256 signature is not 64 bytes"
		}
		r, s := new(big.Int).SetBytes(signature[:32]), new(big.Int).SetBytes(signature[32:])
		if !ecdsa.Verify(publicKey, digest[:], r, s) {
			return "its ES256 signature is not made with the test key"
		}
	default:
		return "its algorithm is " + header.Alg
	}

	var payload claims
	if problem := decodeSegment(segments[1], &payload); problem != "" {
		return "its payload " + problem
	}
	if payload.Subject == "" || payload.Subject != id.Subject || !slices.Equal(payload.Roles, id.Roles) {
		return "the identity differs from the payload's subject and roles"
	}
	return ""
}

func decodeSegment(segment string, v any) string {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return "is not base64url: " + err.Error()
	}
	if base64.RawURLEncoding.EncodeToString(raw) != segment {
		return "is not in canonical base64url"
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(v); err != nil {
		return "is not JSON: " + err.Error()
	}
	return ""
}

// TestCheckAcceptedTokens checks that tokens of the fixed fuzz key and of
// the test secret pass checkAccepted, and that one with a changed
// signature does not, so that FuzzVerify's check can fail.
func TestCheckAcceptedTokens(t *testing.T) {
	signer := fuzzSigner(t)
	key := signer.key
	now := time.Now()
	es256, err := signer.Issue("user-1", []string{"reader"}, time.Hour, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs256, err := Issue(testSettings, "svc-billing", []string{RoleService}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}

	if problem := checkAccepted(es256, Identity{Subject: "user-1", Roles: []string{"reader"}}, testSettings.Secret, &key.PublicKey); problem != "" {
		t.Errorf("ES256 token: %s", problem)
	}
	if problem := checkAccepted(hs256, Identity{Subject: "svc-billing", Roles: []string{RoleService}}, testSettings.Secret, &key.PublicKey); problem != "" {
		t.Errorf("HS256 token: %s", problem)
	}

	tampered := hs256[:len(hs256)-2] + "AA"
	if tampered == hs256 {
		tampered = hs256[:len(hs256)-2] + "BB"
	}
	if problem := checkAccepted(tampered, Identity{Subject: "svc-billing", Roles: []string{RoleService}}, testSettings.Secret, &key.PublicKey); problem == "" {
		t.Error("a token with a changed HS256 signature passed checkAccepted")
	}
}

// TestFuzzCorpusTokensVerify checks that the committed tokens signed with
// the test keys still verify, so that FuzzVerify starts from accepted
// tokens. They expire in 2100.
func TestFuzzCorpusTokensVerify(t *testing.T) {
	verifier := fuzzVerifier(t, fuzzSigner(t))

	for name, subject := range map[string]string{"hs256-service-token": "svc-billing", "es256-client-token": "user-1"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerify", name))
		if err != nil {
			t.Fatal(err)
		}
		// The file is "go test fuzz v1" and then one string(...) line.
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		quoted, ok := strings.CutPrefix(lines[len(lines)-1], "string(")
		if !ok {
			t.Fatalf("%s: last line %q is not a string value", name, lines[len(lines)-1])
		}
		token, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if id, err := verifier.Verify(token); err != nil || id.Subject != subject {
			t.Errorf("%s: Verify = %+v, %v; want subject %s", name, id, err, subject)
		}
	}
}
