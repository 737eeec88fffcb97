package limiter_test

import (
	"context"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/advancia-pay/ledger/pkg/redistest"
	"github.com/advancia-pay/ledger/services/ratelimit/internal/limiter"
	"github.com/advancia-pay/ledger/services/ratelimit/internal/policy"
)

var ctx = context.Background()

func tier(name, class string, limit uint32, window time.Duration, failure string) policy.Tier {
	return policy.Tier{Name: name, RouteClass: class, KeyBy: []string{"client", "ip"}, Limit: limit, Window: window, OnRedisFailure: failure}
}

func newLimiter(t *testing.T, tiers ...policy.Tier) *limiter.Limiter {
	t.Helper()
	rdb, prefix := redistest.NewClient(t)
	return limiter.New(rdb, &policy.Policy{Domain: "gateway", Tiers: tiers}, limiter.Options{Prefix: prefix, Timeout: time.Second})
}

func request(class, client string) []map[string]string {
	return []map[string]string{{"route_class": class, "client": client}}
}

func check(t *testing.T, l *limiter.Limiter, descriptors []map[string]string) limiter.Decision {
	t.Helper()
	d, err := l.Check(ctx, "gateway", descriptors, 1)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEachTierAdmitsItsLimit(t *testing.T) {
	t.Parallel()
	p, err := policy.Load("../../../../deploy/ratelimit/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range p.Tiers {
		if tr.Limit > 1000 {
			continue // the service tiers are checked by their smaller siblings' logic
		}
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			only := tr
			l := newLimiter(t, only)
			entries := map[string]string{"route_class": tr.RouteClass, "client": "c1", "ip": "10.0.0.1"}
			if tr.Role == "service" {
				entries["role"] = "service"
			}
			for i := range tr.Limit {
				if d := check(t, l, []map[string]string{entries}); !d.Allowed {
					t.Fatalf("request %d of %d denied", i+1, tr.Limit)
				}
			}
			d := check(t, l, []map[string]string{entries})
			if d.Allowed || d.Tiers[0].RetryAfter <= 0 || d.Tiers[0].RetryAfter > tr.Window {
				t.Errorf("request %d = %+v, want denied with a retry within the window", tr.Limit+1, d)
			}
		})
	}
}

func TestNoWindowExceedsLimit(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, tier("five-per-second", "api", 5, time.Second, policy.FailOpen))

	// Send for 2.5 s, every 20 ms, and record when requests were admitted.
	var admitted []time.Time
	for start := time.Now(); time.Since(start) < 2500*time.Millisecond; time.Sleep(20 * time.Millisecond) {
		if check(t, l, request("api", "c1")).Allowed {
			admitted = append(admitted, time.Now())
		}
	}
	if len(admitted) < 10 {
		t.Fatalf("admitted %d requests in 2.5 s, want at least 10", len(admitted))
	}
	// Any 6 consecutive admissions must span more than the window, minus
	// a margin for the gap between Redis's clock and the recorded times.
	for i := 5; i < len(admitted); i++ {
		if span := admitted[i].Sub(admitted[i-5]); span < 950*time.Millisecond {
			t.Errorf("admissions %d to %d came within %s: 6 requests in one window of 1s", i-5, i, span)
		}
	}
}

func TestDeniedRequestsConsumeNothing(t *testing.T) {
	t.Parallel()
	ten := tier("per-hour", "api", 10, time.Hour, policy.FailOpen)
	l := newLimiter(t, ten)

	admitted := 0
	for range 50 {
		if check(t, l, request("api", "c1")).Allowed {
			admitted++
		}
	}
	twenty := ten
	twenty.Limit = 20
	l.SetPolicy(&policy.Policy{Domain: "gateway", Tiers: []policy.Tier{twenty}})
	for range 50 {
		if check(t, l, request("api", "c1")).Allowed {
			admitted++
		}
	}
	if admitted != 20 {
		t.Errorf("admitted %d, want 10 under the first limit and exactly 10 more after raising it to 20", admitted)
	}
}

func TestDenialByOneTierConsumesNoOther(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, tier("wide", "api", 100, time.Hour, policy.FailOpen), tier("narrow", "payments", 2, time.Hour, policy.FailClosed))
	both := []map[string]string{{"route_class": "api", "client": "c1"}, {"route_class": "payments", "client": "c1"}}

	admitted := 0
	for range 5 {
		if check(t, l, both).Allowed {
			admitted++
		}
	}
	d := check(t, l, request("api", "c1"))
	if admitted != 2 || !d.Allowed || d.Tiers[0].Remaining != 97 {
		t.Errorf("admitted %d, then wide tier remaining %d; want 2 and 97 (only admitted requests count)", admitted, d.Tiers[0].Remaining)
	}
}

func TestRetryAfterIsEnough(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, tier("two-per-2s", "api", 2, 2*time.Second, policy.FailOpen))
	check(t, l, request("api", "c1"))
	check(t, l, request("api", "c1"))
	denied := check(t, l, request("api", "c1"))
	if denied.Allowed {
		t.Fatal("third request allowed, want denied")
	}
	// Clients get whole seconds, rounded up.
	wait := time.Duration(math.Ceil(denied.Tiers[0].RetryAfter.Seconds())) * time.Second
	if wait < time.Second || wait > 2*time.Second {
		t.Fatalf("Retry-After %s, want 1 s to 2 s", wait)
	}
	time.Sleep(wait)
	if d := check(t, l, request("api", "c1")); !d.Allowed {
		t.Errorf("request after waiting Retry-After (%s) = %+v, want allowed", wait, d)
	}
}

func TestConcurrentRequestsAdmitExactlyLimit(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, tier("fifty", "api", 50, time.Hour, policy.FailOpen))
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if d, err := l.Check(ctx, "gateway", request("api", "c1"), 1); err == nil && d.Allowed {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != 50 {
		t.Errorf("admitted %d of 200, want exactly 50", got)
	}
}

func TestFailureModesWhenRedisIsUnreachable(t *testing.T) {
	t.Parallel()
	// A server on loopback that accepts connections and never replies, as
	// a hung Redis does; the 50 ms timeout must decide.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()

	for name, addr := range map[string]string{"refusing": "127.0.0.1:1", "hung": silent.Addr().String()} {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
		t.Cleanup(func() { rdb.Close() })
		l := limiter.New(rdb, &policy.Policy{Domain: "gateway", Tiers: []policy.Tier{
			tier("payments", "payments", 5, time.Minute, policy.FailClosed),
			tier("reads", "api", 100, time.Minute, policy.FailOpen),
		}}, limiter.Options{})

		for class, wantAllowed := range map[string]bool{"payments": false, "api": true} {
			start := time.Now()
			d := check(t, l, request(class, "c1"))
			elapsed := time.Since(start)
			if d.Allowed != wantAllowed || d.Tiers[0].FailureMode == "" {
				t.Errorf("%s Redis, %s: %+v, want allowed=%v decided by the failure mode", name, class, d, wantAllowed)
			}
			// The bound is the 50 ms timeout plus scheduling; a decision
			// that waits for a TCP or read timeout would take seconds.
			if elapsed > 100*time.Millisecond {
				t.Errorf("%s Redis, %s: decided after %s, want within 100 ms", name, class, elapsed)
			}
		}
	}
}

func TestUnknownDomainIsAnError(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, tier("a", "api", 1, time.Second, policy.FailOpen))
	if _, err := l.Check(ctx, "other", request("api", "c1"), 1); err == nil {
		t.Error("Check of an unknown domain = nil error")
	}
	if d := check(t, l, request("unlisted", "c1")); !d.Allowed || len(d.Tiers) != 0 {
		t.Errorf("request matching no tier = %+v, want allowed with no tiers", d)
	}
}

func TestPeekConsumesNothing(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, tier("two", "api", 2, time.Hour, policy.FailOpen))
	for range 5 {
		if d, err := l.Peek(ctx, "gateway", request("api", "c1"), 1); err != nil || !d.Allowed {
			t.Fatalf("peek = %+v, %v; want allowed", d, err)
		}
	}
	check(t, l, request("api", "c1"))
	check(t, l, request("api", "c1"))
	if d, err := l.Peek(ctx, "gateway", request("api", "c1"), 1); err != nil || d.Allowed {
		t.Errorf("peek after the limit = %+v, %v; want denied", d, err)
	}
}
