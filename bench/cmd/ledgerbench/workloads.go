package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// hotWallet is W2: half the transfers pay into one wallet and half are
// paid by it, all contending on its lock and row.
func (b *bench) hotWallet(ctx context.Context) error {
	hot, hotToken := b.ids[0], b.tokens[0]
	prefix := "w2-" + b.runID
	r := b.closed(ctx, "W2 hot wallet", "gRPC", 8, b.opts.step(), func(ctx context.Context, w, n int) outcome {
		other := 1 + (w*7919+n)%(len(b.ids)-1)
		key := fmt.Sprintf("%s-%d-%d", prefix, w, n)
		req := &walletv1.TransferRequest{FromWalletId: b.ids[other], ToWalletId: hot, Amount: 1}
		token := b.tokens[other]
		if n%2 == 1 {
			req.FromWalletId, req.ToWalletId, token = hot, b.ids[other], hotToken
		}
		_, err := b.wallet.Transfer(authed(ctx, token, key), req)
		return classify(err)
	})
	if err := b.verify(ctx, "W2"); err != nil {
		return err
	}
	return b.checkApplied(ctx, "W2", prefix+"-", r.OK)
}

// replays is W3: debits with fresh keys, sequential replays of one key,
// and rounds of 20 concurrent duplicates.
func (b *bench) replays(ctx context.Context) error {
	debit := func(ctx context.Context, i int, key string) outcome {
		_, err := b.wallet.Debit(authed(ctx, b.tokens[i], key), &walletv1.DebitRequest{WalletId: b.ids[i], Amount: 1})
		return classify(err)
	}
	fresh := b.closed(ctx, "W3 fresh keys", "gRPC", 1, b.opts.step()/2, func(ctx context.Context, _, n int) outcome {
		return debit(ctx, n%len(b.ids), fmt.Sprintf("w3f-%s-%d", b.runID, n))
	})
	replayed := b.closed(ctx, "W3 sequential replays", "gRPC", 1, b.opts.step()/2, func(ctx context.Context, _, _ int) outcome {
		return debit(ctx, 1, "w3r-"+b.runID)
	})

	var applied int64
	b.measure(ctx, func() result {
		var r result
		r, applied = duplicateRounds(ctx, debit, "w3d-"+b.runID)
		return r
	})

	if err := b.verify(ctx, "W3"); err != nil {
		return err
	}
	checks := []struct {
		step, prefix string
		want         int64
	}{
		{"W3 fresh keys", "w3f-" + b.runID + "-", fresh.OK},
		{"W3 sequential replays", "w3r-" + b.runID, min(replayed.OK, 1)},
		{"W3 concurrent duplicates", "w3d-" + b.runID + "-", applied},
	}
	for _, c := range checks {
		if err := b.checkApplied(ctx, c.step, c.prefix, c.want); err != nil {
			return err
		}
	}
	return nil
}

// duplicateRounds runs 50 rounds of 20 concurrent debits, all of a round
// with one key, and returns the result and how many rounds had a debit
// acknowledged.
func duplicateRounds(ctx context.Context, debit func(context.Context, int, string) outcome, keyPrefix string) (result, int64) {
	rec := &recorder{}
	start := time.Now()
	var applied int64
	for round := 0; round < 50 && ctx.Err() == nil; round++ {
		var wg sync.WaitGroup
		var ok atomic.Int64
		for range 20 {
			wg.Go(func() {
				t := time.Now()
				o := debit(ctx, 2, fmt.Sprintf("%s-%d", keyPrefix, round))
				rec.add(time.Since(t), o)
				if o == outcomeOK {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() > 0 {
			applied++
		}
	}
	r := rec.result("W3 20 concurrent duplicates", "gRPC", "rounds", time.Since(start))
	r.Concurrency = 20
	return r, applied
}

// gatewayLimiter is W4: balance reads through the gateway with the rate
// limiter set far above the load, then through a gateway without it. A
// read is the gateway's cheapest authenticated route, so the ratio bounds
// the limiter's share of any REST call from above.
func (b *bench) gatewayLimiter(ctx context.Context) error {
	if b.opts.unlimitedURL == "" {
		b.checks = append(b.checks, "W4: no gateway without the limiter given (-unlimited-gateway), so W4 was skipped")
		return nil
	}
	b.closed(ctx, "W4 reads, limiter far above load", "REST", 8, b.opts.step(), b.restRead(b.opts.gatewayURL))
	b.closed(ctx, "W4 reads, no limiter", "REST", 8, b.opts.step(), b.restRead(b.opts.unlimitedURL))
	return nil
}

// mixed is W5: four balance reads for every transfer.
func (b *bench) mixed(ctx context.Context) error {
	prefix := "w5-" + b.runID
	var transfers atomic.Int64
	b.closed(ctx, "W5 mix, 80% reads", "gRPC", 8, b.opts.step(), func(ctx context.Context, w, n int) outcome {
		rng := seededRand(w, n)
		if n%5 != 0 {
			i := rng.IntN(len(b.ids))
			_, err := b.wallet.GetWallet(authed(ctx, b.tokens[i], ""), &walletv1.GetWalletRequest{WalletId: b.ids[i]})
			return classify(err)
		}
		o := b.transfer(ctx, b.wallet, fmt.Sprintf("%s-%d-%d", prefix, w, n), rng)
		if o == outcomeOK {
			transfers.Add(1)
		}
		return o
	})
	if err := b.verify(ctx, "W5"); err != nil {
		return err
	}
	return b.checkApplied(ctx, "W5", prefix+"-", transfers.Load())
}
