package cluster

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/advancia-pay/ledger/chaos/internal/proc"
)

// redisReadyTimeout bounds the wait for a started server's PING.
const redisReadyTimeout = 15 * time.Second

// Redis is a private redis-server without persistence on a loopback port.
type Redis struct {
	Addr    string
	process *proc.Process
	client  *redis.Client
}

// StartRedis starts redis-server on a free port and waits until PING
// succeeds.
func StartRedis(ctx context.Context, logDir string) (*Redis, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found in PATH: %w", err)
	}
	addr, err := proc.FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)

	process, err := proc.Start(proc.Spec{
		Name:    "redis-server",
		Path:    path,
		Args:    []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"},
		LogPath: filepath.Join(logDir, "redis-server.log"),
	})
	if err != nil {
		return nil, err
	}
	r := &Redis{Addr: addr, process: process, client: redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})}
	if err := r.waitReady(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Redis) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(redisReadyTimeout)
	for {
		err := r.client.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if !r.process.Running() {
			return fmt.Errorf("redis-server exited at start (%s); see its log", r.process.ExitState())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not reply to PING within %s: %w", r.Addr, redisReadyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill sends SIGKILL to the server by its pid and waits for the exit.
func (r *Redis) Kill() error { return r.process.Kill(10 * time.Second) }

// Restart starts the server again on the same port, empty.
func (r *Redis) Restart(ctx context.Context) error {
	if err := r.process.Restart(); err != nil {
		return err
	}
	return r.waitReady(ctx)
}

// FlushAll deletes every key.
func (r *Redis) FlushAll(ctx context.Context) error {
	if err := r.client.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("FLUSHALL on %s: %w", r.Addr, err)
	}
	return nil
}

// MGet returns the values of keys, "" for each key that does not exist.
func (r *Redis) MGet(ctx context.Context, keys ...string) ([]string, error) {
	values, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("MGET on %s: %w", r.Addr, err)
	}
	out := make([]string, len(values))
	for i, v := range values {
		if s, ok := v.(string); ok {
			out[i] = s
		}
	}
	return out, nil
}

// Close stops the server and closes the suite's client.
func (r *Redis) Close() error {
	_ = r.client.Close()
	return r.process.Stop(10 * time.Second)
}
