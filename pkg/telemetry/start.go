package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/advancia-pay/ledger/pkg/config"
)

// Start is the common start of a service process: a JSON logger on stdout
// at level, a log line with cfg (secrets masked), and the metrics
// provider. It returns the logger, the /metrics handler and the metrics
// shutdown function.
func Start(service, level string, cfg any) (*slog.Logger, http.Handler, func(context.Context) error, error) {
	logger, err := NewLogger(os.Stdout, service, level)
	if err != nil {
		return nil, nil, nil, err
	}
	logger.Info("starting", "config", config.Redacted(cfg))

	handler, shutdown, err := SetupMetrics(service)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("set up metrics: %w", err)
	}
	return logger, handler, shutdown, nil
}
