// Package redisclient builds the go-redis client of a service from its
// configuration: one server, a Redis Cluster, or a Sentinel-managed
// primary, chosen by which settings are present.
package redisclient

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is a service's Redis settings; services embed it with their own
// prefix, such as `envPrefix:"WALLET_REDIS_"`.
type Config struct {
	// Addr is one server, used when Addrs is empty.
	Addr string `env:"ADDR" envDefault:"127.0.0.1:6379"`
	// Addrs lists Cluster nodes, or Sentinels when MasterName is set
	// (comma-separated).
	Addrs []string `env:"ADDRS"`
	// MasterName selects Sentinel mode: the primary's name.
	MasterName string `env:"MASTER_NAME"`
	Password   string `env:"PASSWORD" secret:"true"`
	// Timeout bounds dialing, reads and writes of each command.
	Timeout time.Duration `env:"TIMEOUT" envDefault:"250ms"`
}

// New returns the client: a Sentinel failover client when MasterName is
// set, a Cluster client when Addrs has more than one address, and a plain
// client otherwise (go-redis' universal client decides the same way).
// Context deadlines are honoured, so a hung server costs at most the
// caller's deadline.
func New(c Config) redis.UniversalClient {
	addrs := c.Addrs
	if len(addrs) == 0 {
		addrs = []string{c.Addr}
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		MasterName:            c.MasterName,
		Password:              c.Password,
		DialTimeout:           c.Timeout,
		ReadTimeout:           c.Timeout,
		WriteTimeout:          c.Timeout,
		ContextTimeoutEnabled: true,
	})
}
