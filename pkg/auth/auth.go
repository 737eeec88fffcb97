// Package auth issues and verifies the bearer tokens that callers present,
// and carries the verified caller identity through a request's context.
//
// Two kinds of tokens exist. Clients carry ES256 tokens, which the gateway
// signs (or an external identity provider, whose keys come from a JWK
// Set). Services authenticate to each other with short-lived HS256 tokens
// under a shared secret. A Verifier accepts only the algorithms it is
// given, each with its own key, and always checks issuer, audience and
// expiry, so a token minted for another system or with
// "alg":"none" is rejected.
package auth

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RoleService marks internal callers: they may credit wallets and act on any
// user's wallet.
const RoleService = "service"

// MinSecretBytes is the shortest HS256 secret accepted: 32 bytes matches the
// SHA-256 output size, as RFC 7518 section 3.2 requires.
const MinSecretBytes = 32

// ErrInvalidToken wraps every verification failure. The wrapped cause names
// the check that failed, for logs only, never for clients.
var ErrInvalidToken = errors.New("auth: invalid token")

// Identity is a verified caller.
type Identity struct {
	// Subject is the token's "sub": the user or service id.
	Subject string
	// Roles come from the token's "roles" claim.
	Roles []string
}

// IsService reports whether the caller has the service role.
func (id Identity) IsService() bool {
	return slices.Contains(id.Roles, RoleService)
}

// Settings are the values both the issuer and the verifier must agree on.
type Settings struct {
	// Secret signs and verifies HS256 service tokens.
	Secret   []byte
	Issuer   string
	Audience string
	// Leeway tolerates clock skew on exp, nbf and iat checks.
	Leeway time.Duration
	// PublicKeys verify ES256 tokens by their "kid" header.
	PublicKeys map[string]*ecdsa.PublicKey
	// Remote, when set, adds the keys an identity provider publishes.
	Remote *RemoteKeys
	// Algorithms a Verifier accepts; empty means HS256, plus ES256 when
	// PublicKeys are set. The gateway pins ES256 alone.
	Algorithms []string
}

func (s Settings) algorithms() []string {
	if len(s.Algorithms) > 0 {
		return s.Algorithms
	}
	algs := []string{jwt.SigningMethodHS256.Alg()}
	if len(s.PublicKeys) > 0 || s.Remote != nil {
		algs = append(algs, jwt.SigningMethodES256.Alg())
	}
	return algs
}

// Validate reports every problem with the settings at once.
func (s Settings) Validate() error {
	var errs []error
	if len(s.Secret) < MinSecretBytes {
		errs = append(errs, fmt.Errorf("JWT secret is %d bytes, need at least %d", len(s.Secret), MinSecretBytes))
	}
	if s.Issuer == "" {
		errs = append(errs, errors.New("JWT issuer is empty"))
	}
	if s.Audience == "" {
		errs = append(errs, errors.New("JWT audience is empty"))
	}
	return errors.Join(errs...)
}

type claims struct {
	Roles []string `json:"roles,omitempty"`
	jwt.RegisteredClaims
}

// Verifier checks bearer tokens. It is safe for concurrent use.
type Verifier struct {
	settings Settings
	parser   *jwt.Parser
}

// NewVerifier returns a Verifier, or the settings' validation error.
func NewVerifier(s Settings) (*Verifier, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(s.algorithms()),
		// Strict base64url: otherwise the unused low bits of a segment's
		// last character can change and the altered token still verifies.
		jwt.WithStrictDecoding(),
		jwt.WithIssuer(s.Issuer),
		jwt.WithAudience(s.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.Leeway),
	)
	return &Verifier{settings: s, parser: parser}, nil
}

// Verify parses a raw token (without the "Bearer " prefix) and returns the
// identity it proves. Every failure wraps ErrInvalidToken.
func (v *Verifier) Verify(raw string) (Identity, error) {
	var c claims
	_, err := v.parser.ParseWithClaims(raw, &c, v.key)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return Identity{}, fmt.Errorf("%w: empty subject", ErrInvalidToken)
	}
	return Identity{Subject: c.Subject, Roles: c.Roles}, nil
}

// key returns the verification key of a token's algorithm: the secret for
// HS256, the public key named by "kid" for ES256. The parser has already
// checked that the algorithm is one this Verifier accepts.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	if t.Method.Alg() == jwt.SigningMethodHS256.Alg() {
		return v.settings.Secret, nil
	}
	kid, _ := t.Header["kid"].(string)
	if key, ok := v.settings.PublicKeys[kid]; ok {
		return key, nil
	}
	if v.settings.Remote != nil {
		if key, ok := v.settings.Remote.Key(kid); ok {
			return key, nil
		}
	}
	if kid == "" && len(v.settings.PublicKeys) == 1 {
		for _, key := range v.settings.PublicKeys {
			return key, nil
		}
	}
	return nil, fmt.Errorf("no public key with kid %q", kid)
}

// Issue signs an HS256 token for subject with the given roles, valid for ttl from
// now. The development token command and tests use it; production tokens
// come from the gateway's token endpoint.
func Issue(s Settings, subject string, roles []string, ttl time.Duration, now time.Time) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	c := claims{
		Roles: roles,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    s.Issuer,
			Audience:  jwt.ClaimStrings{s.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.Secret)
}

type identityKey struct{}

// WithIdentity returns a context carrying a verified identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity stored by WithIdentity.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Config holds the token settings every process reads from the environment;
// services embed it in their own configuration.
type Config struct {
	JWTSecret   string `env:"LEDGER_JWT_SECRET,required,notEmpty" secret:"true"`
	JWTIssuer   string `env:"LEDGER_JWT_ISSUER" envDefault:"advancia-ledger-dev"`
	JWTAudience string `env:"LEDGER_JWT_AUDIENCE" envDefault:"advancia-ledger"`
	// JWKSFile holds the public keys that verify client (ES256) tokens: the
	// gateway's, or an external identity provider's.
	JWKSFile string `env:"LEDGER_JWT_JWKS_FILE"`
	// SigningKeyFile is the PEM P-256 key that signs client tokens; only
	// the gateway and the development token command need it.
	SigningKeyFile string `env:"LEDGER_JWT_SIGNING_KEY_FILE"`
	// JWKSURL is an identity provider's JWK Set, fetched at start and
	// every JWKSRefresh, whose tokens are accepted too.
	JWKSURL     string        `env:"LEDGER_JWT_JWKS_URL"`
	JWKSRefresh time.Duration `env:"LEDGER_JWT_JWKS_REFRESH" envDefault:"10m"`
}

// LoadRemote is Load plus the keys at JWKSURL, refreshed until ctx is
// done.
func (c Config) LoadRemote(ctx context.Context, logger *slog.Logger) (Settings, *Signer, error) {
	s, signer, err := c.Load()
	if err != nil || c.JWKSURL == "" {
		return s, signer, err
	}
	if c.JWKSRefresh < time.Minute {
		return Settings{}, nil, fmt.Errorf("LEDGER_JWT_JWKS_REFRESH is %s, it must be at least 1m", c.JWKSRefresh)
	}
	if s.Remote, err = NewRemoteKeys(ctx, c.JWKSURL, c.JWKSRefresh, logger); err != nil {
		return Settings{}, nil, fmt.Errorf("LEDGER_JWT_JWKS_URL: %w", err)
	}
	return s, signer, nil
}

// Load returns the verification settings with the public keys of
// JWKSFile and of SigningKeyFile, and a Signer when SigningKeyFile is set.
func (c Config) Load() (Settings, *Signer, error) {
	s := c.Settings()
	s.PublicKeys = map[string]*ecdsa.PublicKey{}
	if c.JWKSFile != "" {
		raw, err := os.ReadFile(c.JWKSFile)
		if err != nil {
			return Settings{}, nil, fmt.Errorf("read LEDGER_JWT_JWKS_FILE: %w", err)
		}
		keys, err := ParseJWKS(raw)
		if err != nil {
			return Settings{}, nil, fmt.Errorf("LEDGER_JWT_JWKS_FILE %s: %w", c.JWKSFile, err)
		}
		maps.Copy(s.PublicKeys, keys)
	}
	if c.SigningKeyFile == "" {
		return s, nil, nil
	}
	key, err := LoadPrivateKey(c.SigningKeyFile)
	if err != nil {
		return Settings{}, nil, fmt.Errorf("LEDGER_JWT_SIGNING_KEY_FILE: %w", err)
	}
	signer, err := NewSigner(s, key)
	if err != nil {
		return Settings{}, nil, err
	}
	maps.Copy(s.PublicKeys, signer.PublicKeys())
	return s, signer, nil
}

// Settings returns the verification settings, with 30 seconds of leeway for
// clock skew between hosts.
func (c Config) Settings() Settings {
	return Settings{
		Secret:   []byte(c.JWTSecret),
		Issuer:   c.JWTIssuer,
		Audience: c.JWTAudience,
		Leeway:   30 * time.Second,
	}
}
