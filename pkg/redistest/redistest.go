// Package redistest connects tests to a real Redis server and gives each test
// its own key prefix. Import it only from _test.go files.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	defaultAddr = "127.0.0.1:6379"
	startHint   = `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`

	// scanBatch is the COUNT hint for each SCAN call during cleanup.
	scanBatch = 500
)

// NewClient returns a client for LEDGER_TEST_REDIS_ADDR (default
// 127.0.0.1:6379) and a key prefix "test:<test name>:<8 hex>:" unique to this
// test. t.Cleanup deletes every key under the prefix and then closes the
// client. It calls t.Fatalf, with the command that starts Redis, when the
// server does not reply to PING within 3 seconds.
func NewClient(t testing.TB) (*redis.Client, string) {
	t.Helper()

	addr := os.Getenv("LEDGER_TEST_REDIS_ADDR")
	if addr == "" {
		addr = defaultAddr
	}

	client := redis.NewClient(&redis.Options{Addr: addr})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()

	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		t.Fatalf("redistest: Redis at %s did not reply to PING (%v); start it with: %s", addr, err, startHint)
	}

	prefix := "test:" + sanitize(t.Name()) + ":" + randomHex(t) + ":"

	t.Cleanup(func() {
		if err := deletePrefix(client, prefix); err != nil {
			t.Errorf("redistest: delete keys %s*: %v", prefix, err)
		}

		if err := client.Close(); err != nil {
			t.Errorf("redistest: close client: %v", err)
		}
	})

	return client, prefix
}

func deletePrefix(client *redis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	iter := client.Scan(ctx, 0, prefix+"*", scanBatch).Iterator()

	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}

	if err := iter.Err(); err != nil {
		return err
	}

	if len(keys) == 0 {
		return nil
	}

	return client.Del(ctx, keys...).Err()
}

// sanitize keeps letters, digits, '-' and '_' and replaces every other byte,
// including the glob characters SCAN MATCH interprets, with '_'.
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		default:
			return '_'
		}
	}, name)
}

func randomHex(t testing.TB) string {
	t.Helper()

	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("redistest: read random prefix: %v", err)
	}

	return hex.EncodeToString(b[:])
}
