package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// personalSchemas are the schemas whose tables an erasure must clean.
var personalSchemas = []string{"wallet", "payment", "idempotency", "gateway"}

// TestExportThenEraseOwner drives one patient's activity through the
// gateway, exports it with ledgerctl, erases it, and then searches every
// table for the patient's identifiers.
func TestExportThenEraseOwner(t *testing.T) {
	t.Parallel()
	s := startStack(t, withPayments(startStripeMock(t)))
	const patient, patientID, note = "patient-erase-7f3a", "PAT-55312", "knee-surgery-deposit"

	wallet, token := s.fundedWallet(t, patient, 10000)
	facilityToken := s.token(t, "facility-erase")
	facility := s.createWallet(t, facilityToken, "USD")
	s.moveMoney(t, token, "move-1", "/v1/transfers",
		fmt.Sprintf(`{"from_wallet_id":%q,"to_wallet_id":%q,"amount":"300","description":%q}`, wallet.ID, facility.ID, note))
	resp := s.send(t, call{method: http.MethodPost, path: "/v1/wallets/" + wallet.ID + "/holds", token: token,
		idempotencyKey: "hold-1", body: fmt.Sprintf(`{"amount":"200","description":%q,"expires_in_seconds":300}`, note)})
	decodeOK[holdJSON](t, resp, "hold")
	payment := fmt.Sprintf(`{"payee_wallet_id":%q,"amount":"1000","currency":"USD","method":"wallet","payer_wallet_id":%q,`+
		`"description":%q,"metadata":{"patient_id":%q,"facility_id":"FAC-9"}}`, facility.ID, wallet.ID, note, patientID)
	resp = s.send(t, call{method: http.MethodPost, path: "/v1/payments", token: token, idempotencyKey: "visit-1", body: payment})
	decodeOK[paymentJSON](t, resp, "payment")
	balances := s.balances(t)

	export := s.ledgerctl(t, "users", "export", patient, "-operator", "dpo@example.test")
	var doc struct {
		Subject string                       `json:"subject"`
		Records map[string][]json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(export, &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, export)
	}
	for table, want := range map[string]int{
		// A funding credit, the transfer, the payment's transfer.
		"wallet.wallets": 1, "wallet.transactions": 3, "wallet.postings": 3, "wallet.holds": 1,
		// Four on the patient's wallet, and the two the patient's transfer
		// and payment wrote on the facility's.
		"wallet.audit_events": 6, "payment.payments": 1,
		// The transfer, the hold, and the payment at the payment service
		// and at the wallet.
		"idempotency.records": 4,
	} {
		if got := len(doc.Records[table]); got != want {
			t.Errorf("export: %d %s records, want %d", got, table, want)
		}
	}
	if !bytes.Contains(export, []byte(patientID)) || !bytes.Contains(export, []byte(note)) {
		t.Error("export lacks the payment metadata or the descriptions")
	}

	s.ledgerctl(t, "users", "erase", patient, "-operator", "dpo@example.test")

	for _, identifier := range []string{patient, patientID, note} {
		if found := s.tablesContaining(t, identifier); len(found) != 0 {
			t.Errorf("after erase, %q is still in %v", identifier, found)
		}
	}
	if got := s.balances(t); got != balances {
		t.Errorf("balances after erase = %s, want %s", got, balances)
	}
	if out := s.ledgerctl(t, "verify"); !bytes.HasPrefix(out, []byte("ok:")) {
		t.Errorf("verify after erase: %s", out)
	}
	var events int
	s.query(t, `SELECT count(*) FROM wallet.privacy_events WHERE operator = 'dpo@example.test' AND principal_id IS NOT NULL`).Scan(&events)
	if events != 2 {
		t.Errorf("privacy events naming a principal = %d, want 2 (the export and the erasure)", events)
	}
	// Nothing is left to erase, so a second erasure (or a typo) must report that.
	cmd := exec.Command(ledgerctlPath, "users", "erase", patient, "-operator", "dpo@example.test")
	cmd.Env = append(cmd.Environ(), "LEDGER_DATABASE_URL="+s.databaseURL)
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || !bytes.Contains(out, []byte("nothing was erased")) {
		t.Errorf("second erase: %v, %s; want exit 1 saying nothing was erased", err, out)
	}
	resp = s.send(t, call{method: http.MethodGet, path: "/v1/wallets/" + wallet.ID, token: token})
	expectProblem(t, resp, http.StatusForbidden, "permission_denied")
}

// ledgerctl runs the admin tool against the stack's database and returns
// its standard output; it fails the test on a non-zero exit.
func (s *stack) ledgerctl(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(ledgerctlPath, args...)
	cmd.Env = append(cmd.Environ(), "LEDGER_DATABASE_URL="+s.databaseURL, "WALLET_DATABASE_URL="+s.databaseURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ledgerctl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// balances returns every wallet's id and balance, in id order, as text.
func (s *stack) balances(t *testing.T) string {
	t.Helper()
	var out string
	s.query(t, `SELECT coalesce(string_agg(id || '=' || balance, ',' ORDER BY id), '') FROM wallet.wallets`).Scan(&out)
	return out
}

// tablesContaining returns the tables of the ledger's schemas that hold
// text in any column, read as the row's text form.
func (s *stack) tablesContaining(t *testing.T, text string) []string {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, s.databaseURL)
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
		FROM information_schema.tables WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'`, personalSchemas)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, table := range tables {
		var n int
		// The table name comes from the catalog, quoted; the text is a parameter.
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table+` t WHERE t::text LIKE '%' || $1 || '%'`, text).Scan(&n); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%s (%d rows)", table, n))
		}
	}
	return found
}

func (s *stack) query(t *testing.T, sql string) pgx.Row {
	t.Helper()
	return connect(t, s.databaseURL).QueryRow(context.Background(), sql)
}
