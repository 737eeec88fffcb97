package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// requestTimeout bounds each HTTP request. It exceeds the gateway's
// GATEWAY_REQUEST_TIMEOUT (5s in the suite), so a slow call normally ends
// as the gateway's 504 rather than as a client time-out.
const requestTimeout = 8 * time.Second

// Client sends requests to the gateway.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the gateway at base, such as
// "http://127.0.0.1:8080".
func NewClient(base string) *Client {
	return &Client{base: base, http: &http.Client{Timeout: requestTimeout}}
}

// Close closes idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// response is one HTTP exchange, or the error that prevented it.
type response struct {
	status     int
	body       []byte
	code       string
	detail     string
	replayed   bool
	retryAfter time.Duration
	err        error
}

// send performs one request. An empty key sends no Idempotency-Key.
func (c *Client) send(ctx context.Context, method, path, token, key, body string) response {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return response{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{status: resp.StatusCode, err: fmt.Errorf("read body: %w", err)}
	}

	a := response{status: resp.StatusCode, body: raw, replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	if seconds, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && seconds > 0 {
		a.retryAfter = time.Duration(seconds) * time.Second
	}
	if resp.StatusCode >= 300 {
		var problem struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(raw, &problem)
		a.code, a.detail = problem.Code, problem.Detail
	}
	return a
}

// outcome classifies a response. Only a 2xx or a final 4xx is a definite
// outcome; everything else is retried with the same key.
func (a response) outcome() Outcome {
	switch {
	case a.err != nil:
		return Unknown
	case a.status >= 200 && a.status < 300:
		return Acknowledged
	case a.status == http.StatusConflict && (a.code == "idempotency_key_in_use" || a.code == "wallet_busy"):
		return Unknown
	case a.status == http.StatusTooManyRequests || a.status >= 500:
		return Unknown
	case a.status >= 400:
		return Rejected
	}
	return Unknown
}

// describe returns the response for messages.
func (a response) describe() string {
	if a.err != nil {
		return a.err.Error()
	}
	if a.code != "" {
		return fmt.Sprintf("HTTP %d %s: %s", a.status, a.code, a.detail)
	}
	return fmt.Sprintf("HTTP %d %s", a.status, bytes.TrimSpace(a.body))
}

// getJSON sends an unkeyed GET or POST and decodes a 2xx body into out.
func (c *Client) getJSON(ctx context.Context, method, path, token, body string, out any) error {
	a := c.send(ctx, method, path, token, "", body)
	if a.outcome() != Acknowledged {
		return fmt.Errorf("%s %s: %s", method, path, a.describe())
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return fmt.Errorf("%s %s: decode %s: %w", method, path, a.body, err)
	}
	return nil
}
