// Package stack builds the ledger's binaries and runs the whole stack as
// separate processes against a private PostgreSQL and Redis: one
// idempotencyd, two walletd, ratelimitd, the fake Stripe, paymentd and
// gatewayd.
package stack

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// Packages of the binaries the suite builds.
const (
	walletdPackage      = "github.com/advancia-pay/ledger/services/wallet/cmd/walletd"
	ledgerctlPackage    = "github.com/advancia-pay/ledger/services/wallet/cmd/ledgerctl"
	idempotencydPackage = "github.com/advancia-pay/ledger/services/idempotency/cmd/idempotencyd"
	ratelimitdPackage   = "github.com/advancia-pay/ledger/services/ratelimit/cmd/ratelimitd"
	paymentdPackage     = "github.com/advancia-pay/ledger/services/payment/cmd/paymentd"
	stripefakePackage   = "github.com/advancia-pay/ledger/services/payment/cmd/stripefake"
	gatewaydPackage     = "github.com/advancia-pay/ledger/gateway/cmd/gatewayd"
)

// buildTimeout bounds the build, which takes minutes with -race and a
// cold build cache.
const buildTimeout = 15 * time.Minute

// BuildOptions select how the binaries are built.
type BuildOptions struct {
	// Race builds every binary with the race detector.
	Race bool
	// WalletTags are extra build tags for walletd alone, such as
	// "chaosbroken".
	WalletTags string
}

// Build builds every binary of the stack into dir. It needs the
// repository's go.work, so it runs from inside the repository.
func Build(ctx context.Context, dir string, opts BuildOptions) error {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()

	packages := []string{ledgerctlPackage, idempotencydPackage, ratelimitdPackage, paymentdPackage, stripefakePackage, gatewaydPackage}
	if opts.WalletTags == "" {
		packages = append(packages, walletdPackage)
	}
	if err := goBuild(ctx, dir+string(filepath.Separator), opts.Race, "", packages...); err != nil {
		return err
	}
	if opts.WalletTags != "" {
		return goBuild(ctx, filepath.Join(dir, "walletd"), opts.Race, opts.WalletTags, walletdPackage)
	}
	return nil
}

func goBuild(ctx context.Context, output string, race bool, tags string, packages ...string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("find the go command in PATH: %w", err)
	}
	args := []string{"build", "-o", output}
	if race {
		args = append(args, "-race")
	}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, packages...)
	out, err := exec.CommandContext(ctx, goTool, args...).CombinedOutput() // #nosec G204 -- go build of the repository's own packages
	if err != nil {
		return fmt.Errorf("go %v (run from inside the repository, which has go.work): %w\n%s", args, err, out)
	}
	return nil
}
