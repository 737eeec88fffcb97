package observability_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

var (
	alertsPath    = filepath.Join("..", "prometheus", "alerts.yaml")
	dashboardPath = filepath.Join("..", "grafana", "ledger-dashboard.json")
	runbookPath   = filepath.Join(repoRoot, "docs", "operations.md")
)

// runbookPrefix starts every runbook_url: a path inside the repository and
// an anchor of one of the runbook's headings.
const runbookPrefix = "docs/operations.md#"

// severities are the values of the severity label that receivers route on.
var severities = []string{"critical", "warning"}

// documentedMetrics are the metrics the README's Observability section and
// the alerts rely on, as Prometheus serves them.
var documentedMetrics = []string{
	"ledger_lock_wait_seconds_bucket",
	"ledger_wallet_operations_total",
	"ledger_wallet_lock_unavailable_total",
	"ledger_pgtx_retries_total",
	"ledger_wallet_invariant_violations",
	"ledger_wallet_holds_expired_total",
	"ledger_idempotency_requests_total",
	"ledger_ratelimit_decisions_total",
	"ledger_ratelimit_redis_duration_seconds_bucket",
	"ledger_gateway_request_duration_seconds_bucket",
	"ledger_payment_payments_total",
	"ledger_payment_processing_duration_seconds_bucket",
	"ledger_payment_refunds_total",
	"ledger_payment_webhooks_total",
	"ledger_payment_outbox_lag_seconds_bucket",
}

// requiredAlerts are the conditions an operator must be paged or warned
// about; each has a runbook section.
var requiredAlerts = []string{
	"LedgerLockWaitHigh",
	"LedgerWalletSuccessRateLow",
	"LedgerIdempotencyReplayRateHigh",
	"LedgerRateLimitRejectionSpike",
	"LedgerInvariantViolation",
	"LedgerInvariantViolationsIncreased",
	"LedgerIdempotencyKeyReuseSpike",
	"LedgerPaymentProcessingSlow",
	"LedgerOutboxLagHigh",
}

func TestCatalogHasDocumentedMetrics(t *testing.T) {
	cat := loadCatalog(t)

	for _, name := range documentedMetrics {
		if _, ok := cat.series[name]; !ok {
			t.Errorf("metric %s is not defined by the Go source (found %v)", name, sortedSeries(cat))
		}
	}
}

func TestCatalogLabels(t *testing.T) {
	cat := loadCatalog(t)

	cases := []struct {
		series string
		label  string
	}{
		{"ledger_lock_wait_seconds_bucket", "outcome"},
		{"ledger_lock_wait_seconds_bucket", "le"},
		{"ledger_wallet_operations_total", "type"},
		{"ledger_wallet_operations_total", "outcome"},
		{"ledger_pgtx_retries_total", "sqlstate"},
		{"ledger_idempotency_requests_total", "method"},
		{"ledger_ratelimit_decisions_total", "tier"},
		{"ledger_gateway_request_duration_seconds_count", "status"},
		{"ledger_payment_webhooks_total", "type"},
		{"ledger_payment_payments_total", "otel_scope_name"},
	}
	for _, c := range cases {
		if !cat.series[c.series].labels[c.label] {
			t.Errorf("series %s has no label %q", c.series, c.label)
		}
	}
	if cat.series["ledger_lock_wait_seconds_count"].labels["le"] {
		t.Errorf("series ledger_lock_wait_seconds_count has the label le, which only _bucket series carry")
	}
}

// The names in the catalog follow from the translation strategy the services
// configure; a different strategy would rename every series.
func TestTelemetryTranslationStrategy(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "pkg", "telemetry", "metrics.go"))
	if err != nil {
		t.Fatalf("read pkg/telemetry/metrics.go: %v", err)
	}

	if !bytes.Contains(src, []byte("otlptranslator.UnderscoreEscapingWithSuffixes")) {
		t.Errorf("pkg/telemetry/metrics.go no longer uses otlptranslator.UnderscoreEscapingWithSuffixes; update loadCatalog to the new names")
	}
}

func TestAlertsParse(t *testing.T) {
	groups := loadAlerts(t)

	if len(groups.Groups) == 0 {
		t.Fatalf("%s has no rule groups", alertsPath)
	}
	for _, group := range groups.Groups {
		if len(group.Rules) == 0 {
			t.Errorf("group %s has no rules", group.Name)
		}
	}
}

func TestAlertsRequiredPresent(t *testing.T) {
	names := map[string]bool{}
	for _, rule := range alertRules(t) {
		names[rule.Alert] = true
	}

	for _, name := range requiredAlerts {
		if !names[name] {
			t.Errorf("alert %s is missing from %s", name, alertsPath)
		}
	}
}

func TestAlertsSelfContained(t *testing.T) {
	seen := map[string]bool{}
	for _, rule := range alertRules(t) {
		if rule.Record != "" {
			t.Errorf("recording rule %s: %s must not depend on recording rules", rule.Record, alertsPath)
		}
		if seen[rule.Alert] {
			t.Errorf("alert %s is defined twice", rule.Alert)
		}
		seen[rule.Alert] = true
	}
}

func TestAlertsLabelsAndAnnotations(t *testing.T) {
	for _, rule := range alertRules(t) {
		if !slices.Contains(severities, rule.Labels["severity"]) {
			t.Errorf("alert %s: severity %q, want one of %v", rule.Alert, rule.Labels["severity"], severities)
		}
		for _, key := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(rule.Annotations[key]) == "" {
				t.Errorf("alert %s: annotation %s is missing", rule.Alert, key)
			}
		}
	}
}

func TestAlertsRunbookAnchorsExist(t *testing.T) {
	anchors := runbookAnchors(t)

	for _, rule := range alertRules(t) {
		url := rule.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookPrefix)
		if !ok {
			t.Errorf("alert %s: runbook_url %q does not start with %s", rule.Alert, url, runbookPrefix)
			continue
		}
		if !anchors[anchor] {
			t.Errorf("alert %s: runbook_url %q names no heading of %s (anchors: %v)", rule.Alert, url, runbookPath, sortedKeys(anchors))
		}
	}
}

func TestAlertsExprsUseKnownMetrics(t *testing.T) {
	cat := loadCatalog(t)

	for _, rule := range alertRules(t) {
		for _, err := range checkExpr(cat, rule.Expr) {
			t.Errorf("alert %s: %v", rule.Alert, err)
		}
	}
}

func TestDashboardStructure(t *testing.T) {
	board := loadDashboard(t)

	if board.SchemaVersion != 39 {
		t.Errorf("schemaVersion = %d, want 39", board.SchemaVersion)
	}
	if board.UID == "" || board.Title == "" {
		t.Errorf("uid %q and title %q must both be set", board.UID, board.Title)
	}
	if !hasDatasourceVariable(board) {
		t.Errorf("templating has no variable datasource of type datasource for prometheus")
	}
}

func TestDashboardPanels(t *testing.T) {
	board := loadDashboard(t)
	panels := board.allPanels()

	ids := map[int]bool{}
	graphs := 0
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		graphs++
		checkPanel(t, p)
	}
	if graphs == 0 {
		t.Fatalf("%s has no panels with queries", dashboardPath)
	}
}

func TestDashboardLayout(t *testing.T) {
	panels := loadDashboard(t).allPanels()

	for i, p := range panels {
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: gridPos %+v is outside the 24-column grid", p.ID, p.Title, p.GridPos)
		}
		for _, other := range panels[i+1:] {
			if p.GridPos.overlaps(other.GridPos) {
				t.Errorf("panels %d %q and %d %q overlap", p.ID, p.Title, other.ID, other.Title)
			}
		}
	}
}

func TestDashboardExprsUseKnownMetrics(t *testing.T) {
	cat := loadCatalog(t)

	for _, p := range loadDashboard(t).allPanels() {
		for _, target := range p.Targets {
			expr, err := expandGrafanaVariables(target.Expr)
			if err != nil {
				t.Errorf("panel %q target %s: %v", p.Title, target.RefID, err)
				continue
			}
			for _, err := range checkExpr(cat, expr) {
				t.Errorf("panel %q target %s: %v", p.Title, target.RefID, err)
			}
		}
	}
}

// Every metric the services export has a panel, so a new instrument shows up
// here until someone charts it.
func TestDashboardCoversEveryMetric(t *testing.T) {
	cat := loadCatalog(t)

	used := map[string]bool{}
	for _, p := range loadDashboard(t).allPanels() {
		for _, target := range p.Targets {
			expr, err := expandGrafanaVariables(target.Expr)
			if err != nil {
				continue
			}
			parsed, err := promqlParser.ParseExpr(expr)
			if err != nil {
				continue
			}
			for _, selector := range selectorsUnder(parsed) {
				used[cat.series[selectorName(selector)].instrument.name] = true
			}
		}
	}

	for _, name := range sortedSeries(cat) {
		inst := cat.series[name].instrument
		if !used[inst.name] {
			t.Errorf("no dashboard panel charts %s (instrument %s in %s)", name, inst.name, inst.file)
		}
	}
}

func TestCheckExprAcceptsValid(t *testing.T) {
	cat := loadCatalog(t)

	expr := `histogram_quantile(0.99, sum by (le, outcome) (rate(ledger_lock_wait_seconds_bucket{outcome=~"acquired|not_acquired"}[5m])))`
	if errs := checkExpr(cat, expr); len(errs) != 0 {
		t.Errorf("checkExpr(%q) = %v, want no errors", expr, errs)
	}
}

// Each bad expression must produce exactly one error that names its
// problem, so the checks above cannot pass by accident.
func TestCheckExprRejectsInvalid(t *testing.T) {
	cat := loadCatalog(t)

	cases := []struct {
		expr string
		want string
	}{
		{`sum(rate(ledger_wallet_operations_total[5m])`, "invalid PromQL"},
		{`ledger_wallet_nonexistent_total`, "is not defined by any instrument"},
		{`ledger_wallet_operations_total{tier="client-per-second"}`, `has no label "tier"`},
		{`ledger_wallet_operations_total{outcome="postd"}`, `outcome value "postd" is not a string literal`},
		{`ledger_wallet_operations_total{outcome=~"post.*"}`, "uses a pattern"},
		{`rate(ledger_wallet_invariant_violations[5m])`, "which is a gauge"},
		{`histogram_quantile(0.99, sum(rate(ledger_lock_wait_seconds_bucket[5m])))`, "does not keep le"},
		{`histogram_quantile(0.99, rate(ledger_lock_wait_seconds_count[5m]))`, "not a _bucket series"},
		{`sum by (tier) (rate(ledger_wallet_operations_total[5m]))`, `groups by "tier"`},
		{`vector(1)`, "selects no metric"},
	}
	for _, c := range cases {
		errs := checkExpr(cat, c.expr)
		if len(errs) != 1 {
			t.Errorf("checkExpr(%q) returned %d errors %v, want 1", c.expr, len(errs), errs)
			continue
		}
		if !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("checkExpr(%q) = %q, want it to contain %q", c.expr, errs[0], c.want)
		}
	}
}

func TestRunbookAnchors(t *testing.T) {
	anchors := runbookAnchors(t)

	for _, want := range []string{"redis-down", "database-down", "invariant-violation", "secret-rotation", "scaling"} {
		if !anchors[want] {
			t.Errorf("%s has no heading with anchor %q", runbookPath, want)
		}
	}
}

func TestGithubAnchor(t *testing.T) {
	cases := map[string]string{
		"Redis down":                       "redis-down",
		"Lock time-outs and busy wallets":  "lock-time-outs-and-busy-wallets",
		"Stripe webhook failures (`500`)":  "stripe-webhook-failures-500",
		"`ledgerctl verify`: what it says": "ledgerctl-verify-what-it-says",
		"idempotencyd down":                "idempotencyd-down",
	}
	for heading, want := range cases {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

func loadAlerts(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()

	content, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatalf("read alerts: %v", err)
	}
	logger := slog.New(slog.DiscardHandler)
	groups, errs := rulefmt.Parse(content, false, model.LegacyValidation, promqlParser, logger)
	for _, err := range errs {
		t.Errorf("%s: %v", alertsPath, err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return groups
}

func alertRules(t *testing.T) []rulefmt.Rule {
	t.Helper()

	var rules []rulefmt.Rule
	for _, group := range loadAlerts(t).Groups {
		rules = append(rules, group.Rules...)
	}
	return rules
}

// dashboard is the part of a Grafana dashboard model the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	GridPos    gridPos     `json:"gridPos"`
	Datasource *datasource `json:"datasource"`
	Targets    []target    `json:"targets"`
	// Panels holds the panels of a collapsed row.
	Panels []panel `json:"panels"`
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

func (g gridPos) overlaps(o gridPos) bool {
	return g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

// allPanels returns the top-level panels followed by those inside
// collapsed rows.
func (d dashboard) allPanels() []panel {
	var panels []panel
	for _, p := range d.Panels {
		panels = append(panels, p)
		panels = append(panels, p.Panels...)
	}
	return panels
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()

	content, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatalf("read dashboard: %v", err)
	}
	var board dashboard
	if err := json.Unmarshal(content, &board); err != nil {
		t.Fatalf("%s is not a valid dashboard: %v", dashboardPath, err)
	}
	return board
}

func hasDatasourceVariable(board dashboard) bool {
	for _, v := range board.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			return true
		}
	}
	return false
}

// checkPanel requires a Prometheus datasource from the variable and at least
// one query with a unique refId.
func checkPanel(t *testing.T, p panel) {
	t.Helper()

	if !isPrometheusVariable(p.Datasource) {
		t.Errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no targets", p.Title)
	}
	refIDs := map[string]bool{}
	for _, target := range p.Targets {
		if target.RefID == "" || refIDs[target.RefID] {
			t.Errorf("panel %q: refId %q is empty or used twice", p.Title, target.RefID)
		}
		refIDs[target.RefID] = true
		if strings.TrimSpace(target.Expr) == "" {
			t.Errorf("panel %q target %s has no expr", p.Title, target.RefID)
		}
		if !isPrometheusVariable(target.Datasource) {
			t.Errorf("panel %q target %s: datasource %+v, want prometheus ${datasource}", p.Title, target.RefID, target.Datasource)
		}
	}
}

func isPrometheusVariable(ds *datasource) bool {
	return ds != nil && ds.Type == "prometheus" && ds.UID == "${datasource}"
}

// grafanaRanges are the Grafana variables that stand for a range in a
// query, replaced by a fixed range so the expression parses as PromQL.
var grafanaRanges = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	"$__range", "1h",
)

func expandGrafanaVariables(expr string) (string, error) {
	expanded := grafanaRanges.Replace(expr)
	if strings.Contains(expanded, "$") {
		return "", fmt.Errorf("expr %q uses a variable other than $__rate_interval, $__interval and $__range", expr)
	}
	return expanded, nil
}

// runbookAnchors returns the GitHub anchors of the runbook's headings.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()

	file, err := os.Open(runbookPath)
	if err != nil {
		t.Fatalf("open runbook: %v", err)
	}
	defer file.Close()

	anchors := map[string]bool{}
	inFence := false
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		heading, ok := markdownHeading(line)
		if inFence || !ok {
			continue
		}
		anchor := githubAnchor(heading)
		for n := 1; anchors[anchor]; n++ {
			anchor = fmt.Sprintf("%s-%d", githubAnchor(heading), n)
		}
		anchors[anchor] = true
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("read runbook: %v", err)
	}
	return anchors
}

func markdownHeading(line string) (string, bool) {
	trimmed := strings.TrimLeft(line, "#")
	level := len(line) - len(trimmed)
	if level == 0 || level > 6 || !strings.HasPrefix(trimmed, " ") {
		return "", false
	}
	return strings.TrimSpace(trimmed), true
}

// githubAnchor builds the anchor GitHub gives a heading: lower case, with
// every character except letters, digits, spaces, hyphens and underscores
// removed and spaces turned into hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func sortedSeries(cat catalog) []string {
	names := make([]string, 0, len(cat.series))
	for name := range cat.series {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
