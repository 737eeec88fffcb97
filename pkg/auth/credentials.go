package auth

import (
	"context"
	"sync"
	"time"
)

// serviceTokenTTL is the lifetime of the tokens a ServiceToken issues; a
// token is renewed once less than half of it is left.
const serviceTokenTTL = 10 * time.Minute

// ServiceToken authenticates a service's outgoing gRPC calls to other
// services with a short-lived token it signs itself (subject, service
// role). It implements credentials.PerRPCCredentials and is safe for
// concurrent use.
//
// NOTE: it allows plaintext connections, for loopback and development.
// With LEDGER_ENV=production a service refuses to start when it would
// send gRPC plaintext to a non-loopback address, so the token travels over
// TLS there (LEDGER_TLS_MODE=on).
type ServiceToken struct {
	settings Settings
	subject  string

	mu sync.Mutex
	// token and renewAt are guarded by mu.
	token   string
	renewAt time.Time
}

// NewServiceToken returns credentials for subject, or the settings'
// validation error.
func NewServiceToken(s Settings, subject string) (*ServiceToken, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &ServiceToken{settings: s, subject: subject}, nil
}

// GetRequestMetadata returns the authorization header for one call.
func (c *ServiceToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	now := time.Now()
	if c.token == "" || now.After(c.renewAt) {
		token, err := Issue(c.settings, c.subject, []string{RoleService}, serviceTokenTTL, now)
		if err != nil {
			return nil, err
		}
		c.token, c.renewAt = token, now.Add(serviceTokenTTL/2)
	}
	return map[string]string{"authorization": "Bearer " + c.token}, nil
}

// RequireTransportSecurity reports false; see the NOTE on ServiceToken.
func (c *ServiceToken) RequireTransportSecurity() bool {
	return false
}
