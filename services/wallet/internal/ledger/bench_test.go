package ledger_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/lock"
	"github.com/advancia-pay/ledger/services/wallet/internal/ledger"
	"github.com/advancia-pay/ledger/services/wallet/internal/postgres"
)

// BenchmarkDebitOneWallet measures back-to-back debits of one wallet: the
// Redis lock, one SERIALIZABLE transaction and the commit, with no
// contention.
func BenchmarkDebitOneWallet(b *testing.B) {
	benchDebits(b, 1)
}

// BenchmarkDebitManyWallets measures debits spread over 64 wallets from
// parallel goroutines, as many users paying at once.
func BenchmarkDebitManyWallets(b *testing.B) {
	benchDebits(b, 64)
}

// benchDebits runs b.N debits over the given number of wallets and reports
// serialization retries per debit next to the time.
func benchDebits(b *testing.B, wallets int) {
	var retries atomic.Int64
	env := newEnv(b, func(_ *lock.Options, so *postgres.Options) {
		so.Tx.OnRetry = func(int, error) { retries.Add(1) }
	})
	ids := make([]string, wallets)
	owners := make([]auth.Identity, wallets)
	for i := range ids {
		owners[i] = auth.Identity{Subject: fmt.Sprintf("bench-%d", i)}
		ids[i] = env.fundedWallet(b, owners[i], "USD", 1<<40).ID
	}

	var n atomic.Int64
	if wallets > 1 {
		b.SetParallelism(8) // 8 goroutines per CPU: PostgreSQL, not Go, is the bottleneck
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			w := int(i) % wallets
			if _, err := env.move(ledger.TypeDebit, owners[w], ids[w], "", 1, fmt.Sprintf("bench-%d", i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/op")
}
