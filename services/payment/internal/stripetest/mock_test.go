package stripetest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/advancia-pay/ledger/services/payment/internal/stripetest"
)

func TestStartMockAnswers(t *testing.T) {
	t.Parallel()

	baseURL := stripetest.StartMock(t)

	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatalf("parse %q: %v", baseURL, err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Errorf("base URL = %q, want http://127.0.0.1:<port>", baseURL)
	}

	req, err := http.NewRequest(http.MethodGet, baseURL+"/v1/balance", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/balance: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/balance: HTTP %d, want 200", resp.StatusCode)
	}
}

// fatalRecorder records the Fatalf message and ends the goroutine as
// testing.T.Fatalf does.
type fatalRecorder struct {
	testing.TB
	message string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.message = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartMockMissingBinary(t *testing.T) {
	t.Setenv("STRIPE_MOCK_BIN", t.TempDir()+"/stripe-mock")
	rec := &fatalRecorder{TB: t}

	done := make(chan struct{})
	go func() {
		defer close(done)
		stripetest.StartMock(rec)
	}()
	<-done

	if !strings.Contains(rec.message, "run `make tools`") {
		t.Errorf("Fatalf message = %q, want it to say run `make tools`", rec.message)
	}
}
