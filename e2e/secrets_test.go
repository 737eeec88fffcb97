package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/advancia-pay/ledger/pkg/redistest"
	"github.com/advancia-pay/ledger/pkg/tlstest"
)

// stackSecrets are distinctive values for every secret a stack's processes
// get, so that a log line that contains one can be found.
type stackSecrets struct {
	stripeAPIKey     string
	webhookSecret    string
	databasePassword string
	redisPassword    string
}

func newStackSecrets(t *testing.T) stackSecrets {
	t.Helper()
	tag := func(what string) string { return what + hex.EncodeToString(randomSecret(t)[:12]) }
	return stackSecrets{
		stripeAPIKey:     "sk_test_" + tag("stripekey"),
		webhookSecret:    "whsec_" + tag("webhook"),
		databasePassword: tag("dbpass"),
		redisPassword:    tag("redispass"),
	}
}

// secretsEnv returns env with the secrets set, debug logging, and every
// Redis client sent to the private server at redisAddr over TLS with
// client, which ca issued.
func secretsEnv(t *testing.T, env []string, secrets stackSecrets, redisAddr string, ca *tlstest.CA, client tlstest.Identity) []string {
	t.Helper()
	var edited []string
	for _, entry := range env {
		name, value, _ := strings.Cut(entry, "=")
		switch {
		case strings.HasSuffix(name, "DATABASE_URL"):
			value = withPassword(t, value, secrets.databasePassword)
		case strings.HasSuffix(name, "_REDIS_ADDR"):
			prefix := strings.TrimSuffix(name, "ADDR")
			value = redisAddr
			edited = append(edited,
				prefix+"PASSWORD="+secrets.redisPassword,
				prefix+"TLS=true",
				prefix+"TLS_CA_FILE="+ca.CertFile,
				prefix+"TLS_CERT_FILE="+client.CertFile,
				prefix+"TLS_KEY_FILE="+client.KeyFile)
		case name == "STRIPE_API_KEY":
			value = secrets.stripeAPIKey
		case name == "STRIPE_WEBHOOK_SECRET":
			value = secrets.webhookSecret
		case name == "LOG_LEVEL":
			value = "debug"
		}
		edited = append(edited, name+"="+value)
	}
	return edited
}

// withPassword returns databaseURL with password added to its user.
// PostgreSQL's trust authentication on 127.0.0.1 ignores it.
func withPassword(t *testing.T, databaseURL, password string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// keyLines returns the base64 lines of a PEM private key file.
func keyLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestSecretsNeverLogged runs every process with distinctive secrets and
// TLS keys, sends requests that succeed and requests that fail, stops the
// processes and looks for each secret in everything they wrote.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	secrets := newStackSecrets(t)
	ca := tlstest.NewCA(t, "ledger-e2e")
	identity, redisClient := ca.Issue(t, "ledger-e2e"), ca.Issue(t, "redis-client")
	redisAddr := redistest.StartServer(t, redistest.ServerOptions{CA: ca, Password: secrets.redisPassword})
	s := startStack(t, withPayments(startStripeMock(t)), withMutualTLS(ca, identity), withEnv(func(env []string) []string {
		return secretsEnv(t, env, secrets, redisAddr, ca, redisClient)
	}))

	apiClientSecret := driveSecretRequests(t, s, secrets)

	for _, p := range s.processes {
		p.stop(t)
	}

	forbidden := map[string]string{
		"LEDGER_JWT_SECRET":      string(s.settings.Secret),
		"STRIPE_API_KEY":         secrets.stripeAPIKey,
		"STRIPE_WEBHOOK_SECRET":  secrets.webhookSecret,
		"database password":      secrets.databasePassword,
		"Redis password":         secrets.redisPassword,
		"API client secret":      apiClientSecret,
		"PEM private key header": "PRIVATE KEY-----",
	}
	for i, line := range keyLines(t, identity.KeyFile) {
		forbidden[fmt.Sprintf("gRPC TLS key line %d", i+1)] = line
	}
	for i, line := range keyLines(t, redisClient.KeyFile) {
		forbidden[fmt.Sprintf("Redis TLS key line %d", i+1)] = line
	}

	for _, p := range s.processes {
		output := p.output.String()
		if !strings.Contains(output, `"msg":"starting"`) {
			t.Errorf("%s output has no start line, so the check below would prove nothing:\n%s", p.name, output)
		}
		for name, value := range forbidden {
			if strings.Contains(output, value) {
				t.Errorf("%s output contains the %s", p.name, name)
			}
		}
	}
	for _, p := range s.processes {
		if p.name != "paymentd" {
			continue
		}
		for _, masked := range []string{`"STRIPE_API_KEY":"***"`, `"STRIPE_WEBHOOK_SECRET":"***"`, `"PAYMENT_DATABASE_URL":"***"`, `"LEDGER_JWT_SECRET":"***"`} {
			if !strings.Contains(p.output.String(), masked) {
				t.Errorf("paymentd config log does not contain %s", masked)
			}
		}
	}
}

// driveSecretRequests sends requests that use every secret, and requests
// that fail, and returns the API client secret it used.
func driveSecretRequests(t *testing.T, s *stack, secrets stackSecrets) string {
	t.Helper()

	payer, payerToken := s.fundedWallet(t, "secrets-payer", 1000)
	payeeToken := s.token(t, "secrets-payee")
	payee := s.createWallet(t, payeeToken, "USD")
	expectProblem(t, s.debit(t, payerToken, payer.ID, "secrets-debit", "5000"), http.StatusUnprocessableEntity, "insufficient_funds")
	tampered := payerToken[:len(payerToken)-4] + "AAAA"
	expectProblem(t, s.send(t, call{method: http.MethodGet, path: "/v1/wallets", token: tampered}), http.StatusUnauthorized, "unauthenticated")

	apiClient, apiSecret, err := clientStore(t, s).Create(context.Background(), "secrets-clinic", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(secret string) response {
		body, _ := json.Marshal(map[string]string{"client_id": apiClient.ID, "client_secret": secret})
		return s.send(t, call{method: http.MethodPost, path: "/v1/auth/token", body: string(body)})
	}
	expectProblem(t, exchange(apiSecret+"x"), http.StatusUnauthorized, "unauthenticated")
	if resp := exchange(apiSecret); resp.status != http.StatusOK {
		t.Errorf("token exchange with the right secret: %s", resp.describe())
	}

	card := fmt.Sprintf(`{"payee_wallet_id":%q,"amount":"250","currency":"USD","method":"card","payment_method":"pm_card_visa"}`, payee.ID)
	charged := decodeOK[paymentJSON](t, s.send(t, call{method: http.MethodPost, path: "/v1/payments", token: payerToken, idempotencyKey: "secrets-card", body: card}), "card payment")
	declined := fmt.Sprintf(`{"payee_wallet_id":%q,"amount":"250","currency":"XXX","method":"card","payment_method":"pm_card_visa"}`, payee.ID)
	if resp := s.send(t, call{method: http.MethodPost, path: "/v1/payments", token: payerToken, idempotencyKey: "secrets-bad-card", body: declined}); resp.status < 400 {
		t.Errorf("card payment in an unknown currency: %s, want an error", resp.describe())
	}

	event := fmt.Sprintf(`{"id":"evt_secrets","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",`+
		`"data":{"object":{"id":%q,"object":"payment_intent","status":"succeeded","metadata":{"payment_id":%q}}}}`,
		charged.StripePaymentIntentID, charged.ID)
	if status := deliverWebhook(t, s, []byte(event), time.Now(), secrets.webhookSecret); status != http.StatusOK {
		t.Errorf("webhook with the right secret: status %d, want 200", status)
	}
	if status := deliverWebhook(t, s, []byte(event), time.Now(), "whsec_wrong"); status != http.StatusBadRequest {
		t.Errorf("webhook with a wrong secret: status %d, want 400", status)
	}
	// The payment service credits the payee through the wallet service.
	waitForBalance(t, s, payeeToken, payee.ID, "250")
	return apiSecret
}

// TestStartFailureHidesDatabasePassword starts walletd with database URLs
// that fail, at validation or at connect, and checks that the error it
// prints leaves the password out.
func TestStartFailureHidesDatabasePassword(t *testing.T) {
	t.Parallel()
	password := "pw" + hex.EncodeToString(randomSecret(t)[:12])
	missing := "ledger_missing_" + hex.EncodeToString(randomSecret(t)[:6])
	for name, databaseURL := range map[string]string{
		"missing database":          "postgres://ledger_wallet:" + password + "@127.0.0.1:5432/" + missing + "?sslmode=disable",
		"invalid percent-escape":    "postgres://ledger_wallet:" + password + "%zz@127.0.0.1:5432/ledger",
		"invalid port":              "postgres://ledger_wallet:" + password + "@127.0.0.1:port/ledger",
		"unterminated quoted value": "host=127.0.0.1 user=ledger_wallet password='" + password,
	} {
		env := append(walletEnv(t), "WALLET_DATABASE_URL="+databaseURL, "WALLET_REDIS_PASSWORD="+password)
		code, output := runToExit(t, walletdPath, env)
		if code != 1 {
			t.Errorf("%s: walletd exit code %d, want 1; output:\n%s", name, code, output)
		}
		if strings.Contains(output, password) {
			t.Errorf("%s: walletd output contains the password:\n%s", name, output)
		}
		if !strings.Contains(output, "WALLET_DATABASE_URL") && !strings.Contains(output, "database") {
			t.Errorf("%s: walletd output does not say the database failed:\n%s", name, output)
		}
	}
}
