package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// hotWallet is W2: half the transfers pay into one wallet and half are
// paid by it, all contending on its lock and row.
func (b *bench) hotWallet(ctx context.Context) error {
	hot, hotToken := b.ids[0], b.tokens[0]
	rec, elapsed := closedLoop(ctx, 8, b.opts.step(), func(ctx context.Context, w, n int) outcome {
		other := 1 + (w*7919+n)%(len(b.ids)-1)
		key := fmt.Sprintf("w2-%s-%d-%d", b.runID, w, n)
		req := &walletv1.TransferRequest{FromWalletId: b.ids[other], ToWalletId: hot, Amount: 1}
		token := b.tokens[other]
		if n%2 == 1 {
			req.FromWalletId, req.ToWalletId, token = hot, b.ids[other], hotToken
		}
		_, err := b.wallet.Transfer(authed(ctx, token, key), req)
		return classify(err)
	})
	r := rec.result("W2 hot wallet", "gRPC", "closed", elapsed)
	r.Concurrency = 8
	b.results = append(b.results, r)
	return b.verify(ctx, "W2")
}

// replays is W3: debits with fresh keys, sequential replays of one key,
// and rounds of 20 concurrent duplicates.
func (b *bench) replays(ctx context.Context) error {
	debit := func(ctx context.Context, i int, key string) outcome {
		_, err := b.wallet.Debit(authed(ctx, b.tokens[i], key), &walletv1.DebitRequest{WalletId: b.ids[i], Amount: 1})
		return classify(err)
	}
	rec, elapsed := closedLoop(ctx, 1, b.opts.step()/2, func(ctx context.Context, _, n int) outcome {
		return debit(ctx, n%len(b.ids), fmt.Sprintf("w3f-%s-%d", b.runID, n))
	})
	fresh := rec.result("W3 fresh keys", "gRPC", "closed", elapsed)
	fresh.Concurrency = 1
	b.results = append(b.results, fresh)

	rec, elapsed = closedLoop(ctx, 1, b.opts.step()/2, func(ctx context.Context, _, _ int) outcome {
		return debit(ctx, 1, "w3r-"+b.runID)
	})
	replayed := rec.result("W3 sequential replays", "gRPC", "closed", elapsed)
	replayed.Concurrency = 1
	b.results = append(b.results, replayed)

	rec = &recorder{}
	start := time.Now()
	for round := 0; round < 50 && ctx.Err() == nil; round++ {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				t := time.Now()
				o := debit(ctx, 2, fmt.Sprintf("w3d-%s-%d", b.runID, round))
				rec.add(time.Since(t), o)
			})
		}
		wg.Wait()
	}
	r := rec.result("W3 20 concurrent duplicates", "gRPC", "rounds", time.Since(start))
	r.Concurrency = 20
	b.results = append(b.results, r)
	return b.verify(ctx, "W3")
}

// mixed is W5: four balance reads for every transfer.
func (b *bench) mixed(ctx context.Context) error {
	rec, elapsed := closedLoop(ctx, 8, b.opts.step(), func(ctx context.Context, w, n int) outcome {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(n)))
		if n%5 != 0 {
			i := rng.IntN(len(b.ids))
			_, err := b.wallet.GetWallet(authed(ctx, b.tokens[i], ""), &walletv1.GetWalletRequest{WalletId: b.ids[i]})
			return classify(err)
		}
		return b.transfer(ctx, fmt.Sprintf("w5-%s-%d-%d", b.runID, w, n), rng)
	})
	r := rec.result("W5 mix, 80% reads", "gRPC", "closed", elapsed)
	r.Concurrency = 8
	b.results = append(b.results, r)
	return b.verify(ctx, "W5")
}
