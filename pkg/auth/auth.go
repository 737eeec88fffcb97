// Package auth issues and verifies the bearer tokens that callers present,
// and carries the verified caller identity through a request's context.
//
// Tokens are HS256 JWTs. The algorithm is pinned, and issuer, audience and
// expiry are always checked, so a token minted for another system or with
// "alg":"none" is rejected.
package auth

import (
	"context"
	"errors"
	"fmt"
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
	Secret   []byte
	Issuer   string
	Audience string
	// Leeway tolerates clock skew on exp, nbf and iat checks.
	Leeway time.Duration
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
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
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
	_, err := v.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) {
		return v.settings.Secret, nil
	})
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return Identity{}, fmt.Errorf("%w: empty subject", ErrInvalidToken)
	}
	return Identity{Subject: c.Subject, Roles: c.Roles}, nil
}

// Issue signs a token for subject with the given roles, valid for ttl from
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
