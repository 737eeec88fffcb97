package redisclient

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestNewChoosesTheMode(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"one server", Config{Addr: "127.0.0.1:6379"}, "*redis.Client"},
		{"cluster", Config{Addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001"}}, "*redis.ClusterClient"},
		{"sentinel", Config{Addrs: []string{"127.0.0.1:26379"}, MasterName: "ledger"}, "*redis.Client"},
	}
	for _, tc := range cases {
		c, err := New(tc.cfg)
		if err != nil {
			t.Fatalf("%s: New: %v", tc.name, err)
		}
		got := ""
		switch c.(type) {
		case *redis.Client:
			got = "*redis.Client"
		case *redis.ClusterClient:
			got = "*redis.ClusterClient"
		}
		if got != tc.want {
			t.Errorf("%s: client %T, want %s", tc.name, c, tc.want)
		}
		_ = c.Close()
	}
}
