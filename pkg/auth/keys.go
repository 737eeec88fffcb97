package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signer issues ES256 tokens with one private key. It is safe for
// concurrent use.
type Signer struct {
	settings Settings
	key      *ecdsa.PrivateKey
	keyID    string
}

// NewSigner returns a Signer for an ECDSA P-256 private key.
func NewSigner(s Settings, key *ecdsa.PrivateKey) (*Signer, error) {
	keyID, err := KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{settings: s, key: key, keyID: keyID}, nil
}

// KeyID returns the key's "kid": its RFC 7638 JWK thumbprint.
func (s *Signer) KeyID() string { return s.keyID }

// PublicKeys returns the signer's public key by key id, for a Verifier.
func (s *Signer) PublicKeys() map[string]*ecdsa.PublicKey {
	return map[string]*ecdsa.PublicKey{s.keyID: &s.key.PublicKey}
}

// Issue signs an ES256 token for subject with roles, valid for ttl from
// now. extra claims (such as client_id) are added as they are.
func (s *Signer) Issue(subject string, roles []string, ttl time.Duration, now time.Time, extra map[string]any) (string, error) {
	c := jwt.MapClaims{
		"sub": subject, "iss": s.settings.Issuer, "aud": []string{s.settings.Audience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	if len(roles) > 0 {
		c["roles"] = roles
	}
	for k, v := range extra {
		c[k] = v
	}
	token := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	token.Header["kid"] = s.keyID
	return token.SignedString(s.key)
}

// GenerateKey returns a new P-256 private key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// EncodePrivateKey returns key as a PKCS #8 PEM block.
func EncodePrivateKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LoadPrivateKey reads a PEM file holding a P-256 key (PKCS #8 or SEC 1).
func LoadPrivateKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path) // #nosec G304 -- the operator sets the key file path
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("signing key %s is not PEM", path)
	}
	if key, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %s: %w", path, err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s is not an ECDSA P-256 key", path)
	}
	return key, nil
}

// jwk is one public key of a JWK Set (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// p256CoordinateBytes is the length of a P-256 coordinate, which RFC 7518
// section 6.2.1.2 requires in full in the "x" and "y" members.
const p256CoordinateBytes = 32

func toJWK(key *ecdsa.PublicKey) (jwk, error) {
	if key.Curve != elliptic.P256() {
		return jwk{}, errors.New("ES256 needs a P-256 key")
	}
	// Bytes returns the uncompressed point: 0x04, then X and Y.
	point, err := key.Bytes()
	if err != nil {
		return jwk{}, fmt.Errorf("encode public key: %w", err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := point[1:1+p256CoordinateBytes], point[1+p256CoordinateBytes:]
	return jwk{Kty: "EC", Crv: "P-256", X: b64(x), Y: b64(y)}, nil
}

// KeyID returns the RFC 7638 thumbprint of a P-256 public key.
func KeyID(key *ecdsa.PublicKey) (string, error) {
	k, err := toJWK(key)
	if err != nil {
		return "", err
	}
	// RFC 7638: the required members in lexicographic order, no spaces.
	canonical := fmt.Sprintf(`{"crv":"%s","kty":"%s","x":"%s","y":"%s"}`, k.Crv, k.Kty, k.X, k.Y)
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// EncodeJWKS returns the JWK Set JSON of keys, as served at
// /.well-known/jwks.json.
func EncodeJWKS(keys map[string]*ecdsa.PublicKey) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for kid, key := range keys {
		k, err := toJWK(key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kid, err)
		}
		k.Kid, k.Use, k.Alg = kid, "sig", "ES256"
		set.Keys = append(set.Keys, k)
	}
	return json.MarshalIndent(set, "", "  ")
}

// ParseJWKS reads the P-256 signing keys of a JWK Set by key id. Keys of
// other types are skipped; a set with no usable key is an error.
func ParseJWKS(raw []byte) (map[string]*ecdsa.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parse JWK Set: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := parseP256Point(k)
		if err != nil {
			return nil, fmt.Errorf("JWK %q: %w", k.Kid, err)
		}
		kid := k.Kid
		if kid == "" {
			if kid, err = KeyID(pub); err != nil {
				return nil, fmt.Errorf("JWK %q: %w", k.Kid, err)
			}
		}
		keys[kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWK Set has no P-256 signing key")
	}
	return keys, nil
}

// parseP256Point decodes the "x" and "y" members of an EC JWK. A coordinate
// shorter than 32 bytes is padded with leading zeros, as some issuers drop
// them although RFC 7518 requires the full length.
func parseP256Point(k jwk) (*ecdsa.PublicKey, error) {
	point := make([]byte, 1, 1+2*p256CoordinateBytes)
	point[0] = 4 // uncompressed point
	for _, encoded := range []string{k.X, k.Y} {
		coordinate, err := base64.RawURLEncoding.DecodeString(encoded)
		if err != nil {
			return nil, errors.New("malformed coordinates")
		}
		if len(coordinate) > p256CoordinateBytes {
			return nil, fmt.Errorf("a coordinate is %d bytes, at most %d are allowed", len(coordinate), p256CoordinateBytes)
		}
		point = append(point, make([]byte, p256CoordinateBytes-len(coordinate))...)
		point = append(point, coordinate...)
	}
	// ParseUncompressedPublicKey rejects points that are not on the curve.
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("not a point on P-256: %w", err)
	}
	return pub, nil
}
