package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/advancia-pay/ledger/gateway/clients"
	"github.com/advancia-pay/ledger/gateway/internal/peer"
	"github.com/advancia-pay/ledger/pkg/apperr"
	"github.com/advancia-pay/ledger/pkg/auth"
	ratelimitv1 "github.com/advancia-pay/ledger/proto/gen/ledger/ratelimit/v1"
)

// maxTokenRequestBytes bounds the token request body.
const maxTokenRequestBytes = 4 << 10

// tokenIssuer serves POST /v1/auth/token: an API client's id and secret
// for a short-lived ES256 token. Failed exchanges are counted per client
// id and per IP by the rate limit service. While either is over its limit,
// every exchange for it is rejected, even with the right secret.
type tokenIssuer struct {
	clients *clients.Store
	signer  *auth.Signer
	ttl     time.Duration
	th      *throttle
	logger  *slog.Logger
}

type tokenRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (ti *tokenIssuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.ClientID == "" || req.ClientSecret == "" {
		writeProblem(w, r, apperr.InvalidRequest, `send {"client_id": "...", "client_secret": "..."}`, 0)
		return
	}
	failures := ti.failureDescriptors(r, req.ClientID)
	locked, wait, unknown := ti.lockedOut(r.Context(), failures)
	if unknown {
		// Authentication fails closed: without the failure counts, no
		// secret is checked, so guessing cannot go unlimited.
		writeProblem(w, r, apperr.Unavailable, "sign-in is unavailable, retry shortly", time.Second)
		return
	}
	if locked {
		ti.logger.WarnContext(r.Context(), "token exchange rejected during lockout", "client_id", req.ClientID, "ip", peer.IP(r))
		writeProblem(w, r, apperr.RateLimited, "too many failed attempts; retry after the Retry-After delay", wait)
		return
	}

	client, err := ti.clients.Authenticate(r.Context(), req.ClientID, req.ClientSecret)
	if errors.Is(err, clients.ErrInvalidCredentials) {
		ti.recordFailure(r, req.ClientID, failures)
		writeProblem(w, r, apperr.Unauthenticated, "the client id or secret is wrong, or the client was revoked", 0)
		return
	}
	if err != nil {
		ti.logger.ErrorContext(r.Context(), "token exchange failed", "error", err)
		writeProblem(w, r, apperr.Internal, "internal error", 0)
		return
	}

	token, err := ti.signer.Issue(client.Owner, client.Roles, ti.ttl, time.Now(), map[string]any{"client_id": client.ID})
	if err != nil {
		ti.logger.ErrorContext(r.Context(), "token signing failed", "error", err)
		writeProblem(w, r, apperr.Internal, "internal error", 0)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	// #nosec G117 -- the token endpoint exists to send the access token to the client that proved its credentials
	_ = json.NewEncoder(w).Encode(tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(ti.ttl / time.Second)})
}

func (ti *tokenIssuer) failureDescriptors(r *http.Request, clientID string) []map[string]string {
	return []map[string]string{
		{"route_class": classAuthFailure, "client": clientID},
		{"route_class": classAuthFailure, "ip": peer.IP(r)},
	}
}

// lockedOut checks, without counting, whether the client id or the IP is
// over its failure limit; unknown is true when the limiter could not
// decide. Without a rate limiter nothing is locked.
func (ti *tokenIssuer) lockedOut(ctx context.Context, failures []map[string]string) (locked bool, wait time.Duration, unknown bool) {
	if ti.th == nil {
		return false, 0, false
	}
	resp, err := ti.th.peek(ctx, failures...)
	if err != nil || failedClosed(resp) {
		return false, 0, true
	}
	return resp.GetOverallCode() == ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT, retryAfter(resp), false
}

// recordFailure counts a failed exchange and logs the lockout it starts.
func (ti *tokenIssuer) recordFailure(r *http.Request, clientID string, failures []map[string]string) {
	if ti.th == nil {
		return
	}
	resp, err := ti.th.decide(r.Context(), true, failures...)
	if err != nil {
		return
	}
	if locked, _, _ := ti.lockedOut(r.Context(), failures); locked || resp.GetOverallCode() == ratelimitv1.ShouldRateLimitResponse_CODE_OVER_LIMIT {
		ti.logger.WarnContext(r.Context(), "token exchange locked out after repeated failures", "client_id", clientID, "ip", peer.IP(r))
	}
}

// serveJWKS publishes the public keys that verify client tokens.
func serveJWKS(jwks []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(jwks)
	}
}
