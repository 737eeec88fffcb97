package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/pgtest"
)

const (
	walletdPackage  = "github.com/advancia-pay/ledger/services/wallet/cmd/walletd"
	gatewaydPackage = "github.com/advancia-pay/ledger/gateway/cmd/gatewayd"
	// idempotencydPackage is built too, into idempotencydPath.
	idempotencydPackage = "github.com/advancia-pay/ledger/services/idempotency/cmd/idempotencyd"
	// ratelimitdPackage is built too, into ratelimitdPath.
	ratelimitdPackage = "github.com/advancia-pay/ledger/services/ratelimit/cmd/ratelimitd"
	// paymentdPackage is built too, into paymentdPath.
	paymentdPackage = "github.com/advancia-pay/ledger/services/payment/cmd/paymentd"
	// ledgerctlPackage is the admin tool.
	ledgerctlPackage = "github.com/advancia-pay/ledger/services/wallet/cmd/ledgerctl"

	// buildTimeout bounds the race-enabled build of both binaries, which
	// can take minutes when the build cache is cold.
	buildTimeout = 10 * time.Minute
)

// Paths of the binaries built by TestMain.
var (
	walletdPath  string
	gatewaydPath string
	// idempotencydPath is the idempotency service binary.
	idempotencydPath string
	// ratelimitdPath is the rate limit service binary.
	ratelimitdPath string
	// paymentdPath is the payment service binary.
	paymentdPath string
	// ledgerctlPath is the admin tool binary.
	ledgerctlPath string
)

// emptyDatabases clones an empty template: walletd applies its own
// migrations at start, so each stack starts from a database with no schema.
var emptyDatabases = pgtest.NewTemplate("e2e", func(context.Context, string) error { return nil })

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binaries, runs the tests and removes what it created. It
// is separate from TestMain so that its deferred calls run before os.Exit.
func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ledger-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: create binary directory:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	walletdPath = filepath.Join(dir, "walletd")
	gatewaydPath = filepath.Join(dir, "gatewayd")
	idempotencydPath = filepath.Join(dir, "idempotencyd")
	ratelimitdPath = filepath.Join(dir, "ratelimitd")
	paymentdPath = filepath.Join(dir, "paymentd")
	ledgerctlPath = filepath.Join(dir, "ledgerctl")

	code := m.Run()
	emptyDatabases.Close()
	return code
}

// buildBinaries runs `go build -race` for the services into dir.
func buildBinaries(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("find the go command in PATH: %w", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, goTool, "build", "-race", "-o", dir+string(filepath.Separator), walletdPackage, gatewaydPackage, idempotencydPackage, ratelimitdPackage, paymentdPackage, ledgerctlPackage)
	output, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build the services (this needs the repository's go.work): %w\n%s", err, output)
	}
	return nil
}
