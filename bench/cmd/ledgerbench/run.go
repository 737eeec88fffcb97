package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/config"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// bench is the state of one run.
type bench struct {
	opts   options
	wallet walletv1.WalletServiceClient
	// baseline is the wallet started with WALLET_MODE=baseline, or nil.
	baseline walletv1.WalletServiceClient
	health   healthpb.HealthClient
	http     *http.Client
	signer   *auth.Signer
	service  string
	runID    string
	// ids and tokens are the wallets of the uniform workloads and their
	// owners' tokens.
	ids, tokens []string
	results     []result
	checks      []string
}

func run(ctx context.Context, opts options) error {
	cfg, err := config.Load[auth.Config]()
	if err != nil {
		return err
	}
	settings, signer, err := cfg.Load()
	if err != nil || signer == nil {
		return fmt.Errorf("load the token key (LEDGER_JWT_SIGNING_KEY_FILE): %v", err)
	}
	service, err := auth.Issue(settings, "ledgerbench", []string{auth.RoleService}, time.Hour, time.Now())
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(opts.walletAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()

	b := &bench{
		opts: opts, wallet: walletv1.NewWalletServiceClient(conn), health: healthpb.NewHealthClient(conn),
		http: &http.Client{Timeout: 10 * time.Second}, signer: signer, service: service,
		runID: strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	if opts.baselineAddr != "" {
		baseline, err := grpc.NewClient(opts.baselineAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer baseline.Close()
		b.baseline = walletv1.NewWalletServiceClient(baseline)
	}
	steps := []func(context.Context) error{b.setup, b.floors, b.uniform, b.hotWallet, b.replays, b.gatewayLimiter, b.mixed}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return b.write()
}

// authed returns ctx with a bearer token and an optional idempotency key.
func authed(ctx context.Context, token, key string) context.Context {
	md := metadata.Pairs("authorization", "Bearer "+token)
	if key != "" {
		md.Append("idempotency-key", key)
	}
	return metadata.NewOutgoingContext(ctx, md)
}

// classify maps a call's error to an outcome: business rejections
// (FAILED_PRECONDITION, such as insufficient_funds) are not errors.
func classify(err error) outcome {
	switch status.Code(err) {
	case codes.OK:
		return outcomeOK
	case codes.FailedPrecondition:
		return outcomeRejected
	case codes.Aborted:
		return outcomeBusy
	}
	return outcomeError
}

// setup creates the wallets of the uniform workloads, each funded with
// 1,000,000 minor units.
func (b *bench) setup(ctx context.Context) error {
	n := b.opts.wallets()
	fmt.Fprintf(os.Stderr, "ledgerbench: creating %d wallets\n", n)
	for i := range n {
		token, err := b.signer.Issue(fmt.Sprintf("bench-%s-%d", b.runID, i), nil, 2*time.Hour, time.Now(), nil)
		if err != nil {
			return err
		}
		w, err := b.wallet.CreateWallet(authed(ctx, token, ""), &walletv1.CreateWalletRequest{Currency: "USD"})
		if err != nil {
			return fmt.Errorf("create wallet %d: %w", i, err)
		}
		_, err = b.wallet.Credit(authed(ctx, b.service, "fund-"+w.GetId()), &walletv1.CreditRequest{WalletId: w.GetId(), Amount: 1_000_000})
		if err != nil {
			return fmt.Errorf("fund wallet %d: %w", i, err)
		}
		b.ids, b.tokens = append(b.ids, w.GetId()), append(b.tokens, token)
	}
	return b.analyze(ctx)
}

// seededRand returns a generator seeded with a and b, such as a worker and
// its call number, so that a rerun draws the same wallets.
func seededRand(a, b int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(a), uint64(b))) // #nosec G404 G115 -- picks benchmark wallets, no secret; any int is a valid seed
}

// pair picks two different random wallets of the uniform set.
func (b *bench) pair(rng *rand.Rand) (int, int) {
	i, j := rng.IntN(len(b.ids)), rng.IntN(len(b.ids)-1)
	if j >= i {
		j++
	}
	return i, j
}

// transfer moves 1 unit between two random wallets of the uniform set
// through wallet.
func (b *bench) transfer(ctx context.Context, wallet walletv1.WalletServiceClient, key string, rng *rand.Rand) outcome {
	i, j := b.pair(rng)
	_, err := wallet.Transfer(authed(ctx, b.tokens[i], key), &walletv1.TransferRequest{FromWalletId: b.ids[i], ToWalletId: b.ids[j], Amount: 1})
	return classify(err)
}

// uniform is W1: transfers among all wallets, closed loop at rising
// concurrency, open loop at fixed rates, over REST, and against the
// baseline wallet when there is one.
func (b *bench) uniform(ctx context.Context) error {
	const name = "W1 transfers"
	prefix := "w1-" + b.runID
	for _, c := range []int{1, 8, 32} {
		b.closed(ctx, name, "gRPC", c, b.opts.step(), func(ctx context.Context, w, n int) outcome {
			return b.transfer(ctx, b.wallet, fmt.Sprintf("%s-c%d-%d-%d", prefix, c, w, n), seededRand(w, n))
		})
	}
	for _, rate := range []float64{100, 300} {
		b.open(ctx, name, "gRPC", rate, b.opts.step(), func(ctx context.Context, _, n int) outcome {
			return b.transfer(ctx, b.wallet, fmt.Sprintf("%s-o%v-%d", prefix, rate, n), seededRand(n, 7))
		})
	}
	b.closed(ctx, name, "REST", 8, b.opts.step(), func(ctx context.Context, w, n int) outcome {
		return b.restTransfer(ctx, fmt.Sprintf("%s-r-%d-%d", prefix, w, n), seededRand(w, n))
	})
	if b.baseline != nil {
		b.closed(ctx, name+", baseline wallet", "gRPC", 8, b.opts.step(), func(ctx context.Context, w, n int) outcome {
			return b.transfer(ctx, b.baseline, fmt.Sprintf("%s-b-%d-%d", prefix, w, n), seededRand(w, n))
		})
	} else {
		b.checks = append(b.checks, "W1: no baseline wallet given (-baseline-wallet), so no baseline step")
	}
	if err := b.verify(ctx, "W1"); err != nil {
		return err
	}
	return b.checkApplied(ctx, "W1", prefix+"-", b.acknowledged("W1 transfers"))
}

// acknowledged sums the successful calls of every step whose workload
// name starts with prefix.
func (b *bench) acknowledged(prefix string) int64 {
	var n int64
	for _, r := range b.results {
		if strings.HasPrefix(r.Workload, prefix) {
			n += r.OK
		}
	}
	return n
}

func (b *bench) restTransfer(ctx context.Context, key string, rng *rand.Rand) outcome {
	i, j := b.pair(rng)
	body, _ := json.Marshal(map[string]string{"from_wallet_id": b.ids[i], "to_wallet_id": b.ids[j], "amount": "1"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.opts.gatewayURL+"/v1/transfers", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.tokens[i])
	req.Header.Set("Idempotency-Key", key)
	return b.restCall(req)
}

// restRead reads a random wallet of the uniform set through the gateway
// at baseURL.
func (b *bench) restRead(baseURL string) op {
	return func(ctx context.Context, w, n int) outcome {
		i := seededRand(w, n).IntN(len(b.ids))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/wallets/"+b.ids[i], nil)
		req.Header.Set("Authorization", "Bearer "+b.tokens[i])
		return b.restCall(req)
	}
}

// restCall sends req and classifies the response like classify does a gRPC
// status: 422 is a business refusal and 409 a busy wallet or key.
func (b *bench) restCall(req *http.Request) outcome {
	resp, err := b.http.Do(req)
	if err != nil {
		return outcomeError
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return outcomeOK
	case http.StatusUnprocessableEntity:
		return outcomeRejected
	case http.StatusConflict:
		return outcomeBusy
	}
	return outcomeError
}
