package redisclient

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/redistest"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name       string
		cfg        Config
		production bool
		want       []string
	}{
		{"development plaintext", Config{Addr: "redis.internal:6379"}, false, nil},
		{"production loopback", Config{Addr: "127.0.0.1:6379"}, true, nil},
		{"production TLS", Config{Addr: "redis.internal:6379", TLS: true, TLSCAFile: "ca.pem"}, true, nil},
		{"production plaintext", Config{Addr: "redis.internal:6379"}, true, []string{
			`WALLET_REDIS_ADDR contains "redis.internal:6379", which is not a loopback address, and WALLET_REDIS_TLS is false`,
		}},
		{"production plaintext Sentinels", Config{Addrs: []string{"127.0.0.1:26379", "sentinel-1:26379"}, MasterName: "ledger"}, true, []string{
			`WALLET_REDIS_ADDRS contains "sentinel-1:26379", which is not a loopback address, and WALLET_REDIS_TLS is false`,
		}},
		{"files without TLS", Config{Addr: "127.0.0.1:6379", TLSCAFile: "ca.pem"}, false, []string{
			"WALLET_REDIS_TLS_* files are set but WALLET_REDIS_TLS is false",
		}},
		{"certificate without key", Config{Addr: "127.0.0.1:6379", TLS: true, TLSCertFile: "c.pem"}, false, []string{
			"WALLET_REDIS_TLS_CERT_FILE and WALLET_REDIS_TLS_KEY_FILE must be set together",
		}},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate("WALLET_REDIS_", tc.production)
		var got []string
		if err != nil {
			got = strings.Split(err.Error(), "\n")
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: Validate = %v, want %d problems", tc.name, err, len(tc.want))
			continue
		}
		for i, want := range tc.want {
			if !strings.HasPrefix(got[i], want) {
				t.Errorf("%s: problem %d = %q, want it to start with %q", tc.name, i, got[i], want)
			}
		}
	}
}

func TestNewRejectsUnreadableTLSFiles(t *testing.T) {
	_, err := New(Config{Addr: "127.0.0.1:6379", TLS: true, TLSCAFile: "/nonexistent/ca.pem"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/ca.pem") {
		t.Errorf("New with a missing CA file: error %v, want the file named", err)
	}
}

// pingUntil sends PING every 50 ms until it succeeds or timeout passes,
// and returns the last error.
func pingUntil(cfg Config, timeout time.Duration) error {
	client, err := New(cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = client.Ping(ctx).Err()
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTLSConnection(t *testing.T) {
	ca := tlstest.NewCA(t, "redis")
	addr := redistest.StartServer(t, redistest.ServerOptions{CA: ca, Password: "redis-pass"})
	client := ca.Issue(t, "wallet")
	withCert := Config{Addr: addr, Password: "redis-pass", Timeout: time.Second,
		TLS: true, TLSCAFile: ca.CertFile, TLSCertFile: client.CertFile, TLSKeyFile: client.KeyFile}

	if err := pingUntil(withCert, 10*time.Second); err != nil {
		t.Fatalf("PING over TLS with a client certificate: %v", err)
	}

	withoutCert := withCert
	withoutCert.TLSCertFile, withoutCert.TLSKeyFile = "", ""
	if err := pingUntil(withoutCert, 0); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("PING over TLS without a client certificate: error %v, want the server to require a certificate", err)
	}
	wrongPassword := withCert
	wrongPassword.Password = "other-pass"
	if err := pingUntil(wrongPassword, 0); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("PING over TLS with a wrong password: error %v, want WRONGPASS", err)
	}
	plaintext := Config{Addr: addr, Password: "redis-pass", Timeout: time.Second}
	if err := pingUntil(plaintext, 0); err == nil {
		t.Error("PING in plaintext succeeded, want the TLS port to reject it")
	}
}
