package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/advancia-pay/ledger/pkg/auth"
	"github.com/advancia-pay/ledger/pkg/idempotency"
	idempotencyv1 "github.com/advancia-pay/ledger/proto/gen/ledger/idempotency/v1"
	walletv1 "github.com/advancia-pay/ledger/proto/gen/ledger/wallet/v1"
)

// fundedWallet creates owner's USD wallet and credits it with amount.
func (s *stack) fundedWallet(t *testing.T, owner string, amount int) (walletJSON, string) {
	t.Helper()
	token := s.token(t, owner)
	w := s.createWallet(t, token, "USD")
	s.moveMoney(t, s.serviceToken(t), "fund-"+w.ID, "/v1/wallets/"+w.ID+"/credit", fmt.Sprintf(`{"amount":"%d"}`, amount))
	return w, token
}

func (s *stack) debit(t *testing.T, token, walletID, key, amount string) response {
	t.Helper()
	return s.send(t, call{method: http.MethodPost, path: "/v1/wallets/" + walletID + "/debit",
		token: token, idempotencyKey: key, body: `{"amount":"` + amount + `"}`})
}

func TestConcurrentRetriesApplyOnce(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 1000)

	const n = 20
	responses := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { responses[i] = s.debit(t, token, w.ID, "same-key", "30") })
	}
	wg.Wait()

	ids := map[string]int{}
	fresh, replayed, inUse := 0, 0, 0
	for i, resp := range responses {
		switch {
		case resp.status == http.StatusOK && resp.header.Get("Idempotent-Replayed") == "true":
			replayed++
			ids[decodeOK[transactionJSON](t, resp, "replay").ID]++
		case resp.status == http.StatusOK:
			fresh++
			ids[decodeOK[transactionJSON](t, resp, "first").ID]++
		case resp.status == http.StatusConflict:
			inUse++
			expectProblem(t, resp, http.StatusConflict, "idempotency_key_in_use")
			if after, err := strconv.Atoi(resp.header.Get("Retry-After")); err != nil || after < 1 {
				t.Errorf("response %d: Retry-After %q, want a whole number of seconds >= 1", i, resp.header.Get("Retry-After"))
			}
		default:
			t.Errorf("response %d: %s", i, resp.describe())
		}
	}
	if fresh != 1 || fresh+replayed+inUse != n || len(ids) != 1 {
		t.Errorf("first %d, replayed %d, in use %d, transaction ids %v; want one first, the rest replays or 409, one id", fresh, replayed, inUse, ids)
	}
	if got := s.wallet(t, token, w.ID).Balance; got != "970" {
		t.Errorf("balance %s, want 970", got)
	}
}

func TestBusinessErrorIsReplayed(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 100)

	expectProblem(t, s.debit(t, token, w.ID, "big", "500"), http.StatusUnprocessableEntity, "insufficient_funds")
	s.moveMoney(t, s.serviceToken(t), "top-up", "/v1/wallets/"+w.ID+"/credit", `{"amount":"1000"}`)

	retry := s.debit(t, token, w.ID, "big", "500")
	expectProblem(t, retry, http.StatusUnprocessableEntity, "insufficient_funds")
	if retry.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry of a refused debit: Idempotent-Replayed %q, want true", retry.header.Get("Idempotent-Replayed"))
	}
	if got := s.wallet(t, token, w.ID).Balance; got != "1100" {
		t.Errorf("balance %s, want 1100", got)
	}
}

func TestReplayAfterRedisIsEmptied(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 100)
	first, _ := s.moveMoney(t, token, "k1", "/v1/wallets/"+w.ID+"/debit", `{"amount":"10"}`)

	// Deleting the stack's idempotency keys is what FLUSHALL does to this
	// service, without touching the keys of tests running beside it.
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr()})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), s.idempotencyPrefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("idempotency keys in Redis = %v, %v; want the cached records", keys, err)
	}
	if err := rdb.Del(context.Background(), keys...).Err(); err != nil {
		t.Fatal(err)
	}

	retry := s.debit(t, token, w.ID, "k1", "10")
	if got := decodeOK[transactionJSON](t, retry, "retry"); got != first || retry.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %+v (replayed %q), want %+v replayed", got, retry.header.Get("Idempotent-Replayed"), first)
	}
	if got := s.wallet(t, token, w.ID).Balance; got != "90" {
		t.Errorf("balance %s, want 90", got)
	}
}

func TestCrashedHolderIsTakenOver(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 100)

	// A walletd that claimed the key and died: the claim holds for its
	// one-second lease and is never completed.
	method := walletv1.WalletService_Debit_FullMethodName
	fingerprint, err := idempotency.Fingerprint(method, &walletv1.DebitRequest{WalletId: w.ID, Amount: 10})
	if err != nil {
		t.Fatal(err)
	}
	claim, err := s.idempotencyClient(t).Claim(context.Background(), &idempotencyv1.ClaimRequest{
		Scope: "user-1 " + method, Key: "k1", Fingerprint: fingerprint, Lease: durationpb.New(time.Second),
	})
	if err != nil || claim.GetOutcome() != idempotencyv1.ClaimResponse_OUTCOME_NEW {
		t.Fatalf("claim = %v, %v; want new", claim, err)
	}

	expectProblem(t, s.debit(t, token, w.ID, "k1", "10"), http.StatusConflict, "idempotency_key_in_use")
	time.Sleep(1200 * time.Millisecond)
	done := s.debit(t, token, w.ID, "k1", "10")
	if got := decodeOK[transactionJSON](t, done, "retry after the lease"); got.BalanceAfter != "90" {
		t.Errorf("retry = %+v, want balance_after 90", got)
	}
	if got := s.wallet(t, token, w.ID).Balance; got != "90" {
		t.Errorf("balance %s, want 90", got)
	}
}

func TestKeysAreScopedPerCaller(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	a, tokenA := s.fundedWallet(t, "user-a", 100)
	b, tokenB := s.fundedWallet(t, "user-b", 100)

	txA, _ := s.moveMoney(t, tokenA, "shared-key", "/v1/wallets/"+a.ID+"/debit", `{"amount":"10"}`)
	respB := s.debit(t, tokenB, b.ID, "shared-key", "10")
	txB := decodeOK[transactionJSON](t, respB, "user b's debit")
	if txB.ID == txA.ID || txB.WalletID != b.ID || respB.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("user b got %+v (replayed %q), want its own new transaction", txB, respB.header.Get("Idempotent-Replayed"))
	}
	if got := s.wallet(t, tokenB, b.ID).Balance; got != "90" {
		t.Errorf("user b's balance %s, want 90", got)
	}
}

func TestLedgerAppliesOnceWithoutIdempotencyService(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 100)
	first, _ := s.moveMoney(t, token, "k1", "/v1/wallets/"+w.ID+"/debit", `{"amount":"10"}`)

	s.idempotency.stop(t)

	retry := s.debit(t, token, w.ID, "k1", "10")
	if got := decodeOK[transactionJSON](t, retry, "retry without the idempotency service"); got != first {
		t.Errorf("retry = %+v, want the original %+v", got, first)
	}
	if retry.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed %q, want true from the ledger's own replay", retry.header.Get("Idempotent-Replayed"))
	}
	s.moveMoney(t, token, "k2", "/v1/wallets/"+w.ID+"/debit", `{"amount":"5"}`)
	if got := s.wallet(t, token, w.ID).Balance; got != "85" {
		t.Errorf("balance %s, want 85", got)
	}
}

// TestRetryContractOverGRPC checks the same contract on a direct gRPC call
// to walletd, as internal services make it.
func TestRetryContractOverGRPC(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w, token := s.fundedWallet(t, "user-1", 100)
	client := walletv1.NewWalletServiceClient(s.dial(t, s.walletGRPC, nil))

	debit := func(key string, amount int64) (*walletv1.Transaction, metadata.MD, error) {
		md := metadata.Pairs("authorization", "Bearer "+token)
		if key != "" {
			md.Append(idempotency.KeyHeader, key)
		}
		var header metadata.MD
		tx, err := client.Debit(metadata.NewOutgoingContext(context.Background(), md),
			&walletv1.DebitRequest{WalletId: w.ID, Amount: amount}, grpc.Header(&header))
		return tx, header, err
	}

	first, header, err := debit("g1", 10)
	if err != nil || len(header.Get(idempotency.ReplayedHeader)) != 0 {
		t.Fatalf("first debit = %v, %v, header %v", first, err, header)
	}
	again, header, err := debit("g1", 10)
	if err != nil || again.GetId() != first.GetId() || header.Get(idempotency.ReplayedHeader)[0] != "true" {
		t.Errorf("retry = %v, %v, header %v; want the first transaction replayed", again, err, header)
	}
	expectGRPC(t, "same key, other amount", codes.FailedPrecondition, "idempotency_key_reused")(debit("g1", 20))
	expectGRPC(t, "no key", codes.InvalidArgument, "idempotency_key_missing")(debit("", 10))
	expectGRPC(t, "overdraft", codes.FailedPrecondition, "insufficient_funds")(debit("g2", 1000))
}

func expectGRPC(t *testing.T, name string, code codes.Code, reason string) func(*walletv1.Transaction, metadata.MD, error) {
	return func(_ *walletv1.Transaction, _ metadata.MD, err error) {
		t.Helper()
		st := status.Convert(err)
		var got string
		for _, d := range st.Details() {
			if info, ok := d.(interface{ GetReason() string }); ok {
				got = info.GetReason()
			}
		}
		if st.Code() != code || got != reason {
			t.Errorf("%s: %s %q (reason %q), want %s %s", name, st.Code(), st.Message(), got, code, reason)
		}
	}
}

// idempotencyClient calls the stack's idempotency service as a service.
func (s *stack) idempotencyClient(t *testing.T) idempotencyv1.IdempotencyServiceClient {
	t.Helper()
	creds, err := auth.NewServiceToken(s.settings, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	return idempotencyv1.NewIdempotencyServiceClient(s.dial(t, s.idempotencyGRPC, creds))
}

func (s *stack) dial(t *testing.T, addr string, creds *auth.ServiceToken) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if creds != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(creds))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
