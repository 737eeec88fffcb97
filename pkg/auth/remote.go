package auth

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// maxJWKSBytes bounds a fetched JWK Set.
const maxJWKSBytes = 1 << 20

// RemoteKeys holds the signing keys an external identity provider
// publishes at a JWK Set URL, fetched at start and refreshed in the
// background, so that its key rotations are followed. It is safe for
// concurrent use.
type RemoteKeys struct {
	url    string
	client *http.Client
	logger *slog.Logger

	mu sync.RWMutex
	// keys is guarded by mu.
	keys map[string]*ecdsa.PublicKey
}

// NewRemoteKeys fetches the JWK Set at url, failing when it cannot, then
// refetches it every refresh until ctx is done. A failed refresh keeps the
// keys it had and is logged.
func NewRemoteKeys(ctx context.Context, url string, refresh time.Duration, logger *slog.Logger) (*RemoteKeys, error) {
	r := &RemoteKeys{url: url, client: &http.Client{Timeout: 10 * time.Second}, logger: logger}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	go func() {
		ticker := time.NewTicker(refresh)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
				r.logger.WarnContext(ctx, "JWK Set refresh failed, keeping the previous keys", "url", r.url, "error", err)
			}
		}
	}()
	return r, nil
}

// Refresh fetches the JWK Set now.
func (r *RemoteKeys) Refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return fmt.Errorf("JWK Set URL: %w", err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWK Set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWK Set %s: status %d", r.url, resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return fmt.Errorf("read JWK Set: %w", err)
	}
	keys, err := ParseJWKS(raw)
	if err != nil {
		return fmt.Errorf("JWK Set %s: %w", r.url, err)
	}
	r.mu.Lock()
	r.keys = keys
	r.mu.Unlock()
	return nil
}

// Key returns the key with id kid.
func (r *RemoteKeys) Key(kid string) (*ecdsa.PublicKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	key, ok := r.keys[kid]
	return key, ok
}
