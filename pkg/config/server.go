package config

import (
	"errors"
	"fmt"
	"time"
)

// Server is the configuration block every service embeds. GRPCAddr and
// AdminAddr have no envDefault because each service listens on its own
// ports, so a service passes them to LoadWithDefaults.
type Server struct {
	// GRPCAddr is the host:port the gRPC server listens on.
	GRPCAddr string `env:"GRPC_ADDR"`

	// AdminAddr is the host:port of the admin HTTP server (/healthz,
	// /readyz, /metrics).
	AdminAddr string `env:"ADMIN_ADDR"`

	// ShutdownTimeout bounds the graceful shutdown, after which in-flight
	// calls are canceled.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`

	// LogLevel is one of debug, info, warn and error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
}

// logLevels are the values LogLevel accepts.
var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

// Validate returns errors.Join of every invalid field of s, each naming its
// variable. Go promotes this method to a config that embeds Server, so a
// config that defines its own Validate must call s.Server.Validate in it.
func (s Server) Validate() error {
	var problems []error

	if s.GRPCAddr == "" {
		problems = append(problems, errors.New("GRPC_ADDR: missing, set it to the host:port to serve gRPC on"))
	}

	if s.AdminAddr == "" {
		problems = append(problems, errors.New("ADMIN_ADDR: missing, set it to the host:port to serve /healthz, /readyz and /metrics on"))
	}

	if s.ShutdownTimeout <= 0 {
		problems = append(problems, fmt.Errorf("SHUTDOWN_TIMEOUT: invalid value %s, must be positive", s.ShutdownTimeout))
	}

	if !logLevels[s.LogLevel] {
		problems = append(problems, fmt.Errorf("LOG_LEVEL: invalid value %q, must be one of debug, info, warn, error", s.LogLevel))
	}

	return errors.Join(problems...)
}
