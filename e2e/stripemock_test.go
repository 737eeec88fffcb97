package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startStripeMock runs stripe-mock (STRIPE_MOCK_BIN, or .bin/stripe-mock
// at the repository root, which `make tools` builds) with both listeners
// on loopback: given only one address, stripe-mock opens the other on
// every interface. It returns the HTTP base URL and kills the process, by
// pid, in t.Cleanup.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("STRIPE_MOCK_BIN")
	if bin == "" {
		bin = filepath.Join("..", ".bin", "stripe-mock")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("stripe-mock not found at %s (%v); run `make tools`", bin, err)
	}

	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	output := &lockedBuffer{}
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("stripe-mock output:\n%s", output.String())
		}
	})

	url := "http://" + httpAddr
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(readyTimeout); time.Now().Before(deadline); time.Sleep(readyPollInterval) {
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer sk_test_e2e")
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return url
		}
	}
	t.Fatalf("stripe-mock did not answer on %s within %s", url, readyTimeout)
	return ""
}
