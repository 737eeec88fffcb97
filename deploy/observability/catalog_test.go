package observability_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/otlptranslator"
)

// repoRoot is the repository root as seen from this package's directory,
// which is where go test runs the tests.
var repoRoot = filepath.Join("..", "..")

// sourceDirs are the directories, relative to repoRoot, whose Go files
// define the services' metric instruments.
var sourceDirs = []string{"pkg", "services", "gateway"}

// commonLabels are the labels every exported series can carry besides its
// attributes: the OpenTelemetry exporter adds the instrumentation scope, and
// Prometheus adds the scrape target.
var commonLabels = []string{"job", "instance", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}

// instrumentTypes maps the OpenTelemetry instrument constructors to the
// metric type that decides the Prometheus suffixes.
var instrumentTypes = map[string]otlptranslator.MetricType{
	"Int64Counter":                   otlptranslator.MetricTypeMonotonicCounter,
	"Float64Counter":                 otlptranslator.MetricTypeMonotonicCounter,
	"Int64ObservableCounter":         otlptranslator.MetricTypeMonotonicCounter,
	"Float64ObservableCounter":       otlptranslator.MetricTypeMonotonicCounter,
	"Int64UpDownCounter":             otlptranslator.MetricTypeNonMonotonicCounter,
	"Float64UpDownCounter":           otlptranslator.MetricTypeNonMonotonicCounter,
	"Int64ObservableUpDownCounter":   otlptranslator.MetricTypeNonMonotonicCounter,
	"Float64ObservableUpDownCounter": otlptranslator.MetricTypeNonMonotonicCounter,
	"Int64Gauge":                     otlptranslator.MetricTypeGauge,
	"Float64Gauge":                   otlptranslator.MetricTypeGauge,
	"Int64ObservableGauge":           otlptranslator.MetricTypeGauge,
	"Float64ObservableGauge":         otlptranslator.MetricTypeGauge,
	"Int64Histogram":                 otlptranslator.MetricTypeHistogram,
	"Float64Histogram":               otlptranslator.MetricTypeHistogram,
}

// instrument is one OpenTelemetry instrument found in the Go source.
type instrument struct {
	name       string
	unit       string
	metricType otlptranslator.MetricType
	// file is the Go file that creates the instrument, relative to repoRoot.
	file string
	// attributes are the attribute keys set anywhere in that file. A file
	// that records two instruments gives both the union, so the label check
	// is per file, not per instrument.
	attributes []string
}

// series is one Prometheus metric name as served on an admin port.
type series struct {
	name string
	// cumulative is true for counters and the _bucket, _sum and _count
	// series of histograms: the series that rate and increase apply to.
	cumulative bool
	labels     map[string]bool
	instrument instrument
}

// catalog holds what the Go source defines: the series by Prometheus name
// and every string literal, which the label value checks look up.
type catalog struct {
	series   map[string]series
	literals map[string]bool
}

// loadCatalog parses the Go source under sourceDirs and returns the series
// that the Prometheus exporter serves for the ledger's instruments.
func loadCatalog(t *testing.T) catalog {
	t.Helper()

	cat := catalog{series: map[string]series{}, literals: map[string]bool{}}
	var found []instrument
	for _, dir := range sourceDirs {
		instruments, err := scanDir(filepath.Join(repoRoot, dir), cat.literals)
		if err != nil {
			t.Fatalf("scan %s: %v", dir, err)
		}
		found = append(found, instruments...)
	}
	if len(found) == 0 {
		t.Fatalf("no ledger.* instruments found under %v", sourceDirs)
	}

	namer := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	for _, inst := range found {
		for _, s := range seriesOf(t, namer, inst) {
			if prev, ok := cat.series[s.name]; ok {
				t.Fatalf("series %s is defined twice: by %s in %s and by %s in %s",
					s.name, prev.instrument.name, prev.instrument.file, inst.name, inst.file)
			}
			cat.series[s.name] = s
		}
	}

	return cat
}

// seriesOf returns the series names the exporter builds for inst: one for a
// counter or gauge, three for a histogram.
func seriesOf(t *testing.T, namer otlptranslator.MetricNamer, inst instrument) []series {
	t.Helper()

	name, err := namer.Build(otlptranslator.Metric{Name: inst.name, Unit: inst.unit, Type: inst.metricType})
	if err != nil {
		t.Fatalf("build the Prometheus name of %s (%s): %v", inst.name, inst.file, err)
	}

	labels := map[string]bool{}
	for _, key := range append(slices.Clone(commonLabels), inst.attributes...) {
		labels[key] = true
	}

	switch inst.metricType {
	case otlptranslator.MetricTypeHistogram:
		bucketLabels := map[string]bool{"le": true}
		for key := range labels {
			bucketLabels[key] = true
		}
		return []series{
			{name: name + "_bucket", cumulative: true, labels: bucketLabels, instrument: inst},
			{name: name + "_sum", cumulative: true, labels: labels, instrument: inst},
			{name: name + "_count", cumulative: true, labels: labels, instrument: inst},
		}
	case otlptranslator.MetricTypeMonotonicCounter:
		return []series{{name: name, cumulative: true, labels: labels, instrument: inst}}
	default:
		return []series{{name: name, labels: labels, instrument: inst}}
	}
}

// scanDir parses every non-test Go file under dir, returns the ledger.*
// instruments it creates, and adds every string literal to literals.
func scanDir(dir string, literals map[string]bool) ([]instrument, error) {
	var found []instrument
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entry.IsDir() {
			if path != dir && skipDir(entry.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		instruments, err := scanFile(path, literals)
		if err != nil {
			return err
		}
		found = append(found, instruments...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	return found, nil
}

func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor"
}

// scanFile finds the instrument constructors called with a literal name that
// starts with "ledger.", the literal of a metric.WithUnit among their
// options, and the keys of the attribute.X("key", ...) calls of the file.
func scanFile(path string, literals map[string]bool) ([]instrument, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	file, err := parser.ParseFile(token.NewFileSet(), path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}

	relative, err := filepath.Rel(repoRoot, path)
	if err != nil {
		return nil, fmt.Errorf("relative path of %s: %w", path, err)
	}

	var found []instrument
	attributes := map[string]bool{}
	ast.Inspect(file, func(node ast.Node) bool {
		switch node := node.(type) {
		case *ast.BasicLit:
			if value, ok := stringLiteral(node); ok {
				literals[value] = true
			}
		case *ast.CallExpr:
			if inst, ok := instrumentCall(node); ok {
				inst.file = relative
				found = append(found, inst)
			}
			if key, ok := attributeCall(node); ok {
				attributes[key] = true
			}
		}
		return true
	})

	keys := sortedKeys(attributes)
	for i := range found {
		found[i].attributes = keys
	}
	return found, nil
}

// instrumentCall reports whether call creates a ledger.* instrument, such as
// meter.Float64Histogram("ledger.lock.wait", metric.WithUnit("s")).
func instrumentCall(call *ast.CallExpr) (instrument, bool) {
	name, ok := calledName(call.Fun)
	if !ok || len(call.Args) == 0 {
		return instrument{}, false
	}
	metricType, ok := instrumentTypes[name]
	if !ok {
		return instrument{}, false
	}
	metricName, ok := literalArg(call.Args[0])
	if !ok || !strings.HasPrefix(metricName, "ledger.") {
		return instrument{}, false
	}

	inst := instrument{name: metricName, metricType: metricType}
	for _, arg := range call.Args[1:] {
		option, ok := arg.(*ast.CallExpr)
		if !ok || len(option.Args) != 1 {
			continue
		}
		if optionName, _ := calledName(option.Fun); optionName == "WithUnit" {
			inst.unit, _ = literalArg(option.Args[0])
		}
	}
	return inst, true
}

// attributeCall returns the key of attribute.String("key", ...) and of the
// other attribute constructors.
func attributeCall(call *ast.CallExpr) (string, bool) {
	selector, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) == 0 {
		return "", false
	}
	pkg, ok := selector.X.(*ast.Ident)
	if !ok || pkg.Name != "attribute" {
		return "", false
	}
	return literalArg(call.Args[0])
}

func calledName(expr ast.Expr) (string, bool) {
	selector, ok := expr.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	return selector.Sel.Name, true
}

func literalArg(expr ast.Expr) (string, bool) {
	lit, ok := expr.(*ast.BasicLit)
	if !ok {
		return "", false
	}
	return stringLiteral(lit)
}

func stringLiteral(lit *ast.BasicLit) (string, bool) {
	if lit.Kind != token.STRING {
		return "", false
	}
	value, err := strconv.Unquote(lit.Value)
	if err != nil {
		return "", false
	}
	return value, true
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for key := range set {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
