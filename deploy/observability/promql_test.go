package observability_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// counterFunctions are the PromQL functions that only make sense on
// cumulative series (counters and histogram parts).
var counterFunctions = map[string]bool{"rate": true, "irate": true, "increase": true, "resets": true}

// valueCheckedLabels are the labels whose values come from Go string
// literals, so a value used in a matcher must appear in the source. Tier
// names come from the policy file and status codes from net/http, so their
// labels are not checked.
var valueCheckedLabels = map[string]bool{"outcome": true, "sqlstate": true}

// plainAlternation matches a regular expression that is only a list of
// literal words, such as posted|replayed.
var plainAlternation = regexp.MustCompile(`^[A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*$`)

// promqlParser parses expressions with the defaults of Prometheus itself.
var promqlParser = parser.NewParser(parser.Options{})

// checkExpr parses expr as PromQL and returns one error for each problem it
// finds. The problems are an unknown metric, a label the metric does not
// carry, an outcome value the Go source never writes, rate over a gauge, and
// a histogram_quantile that does not read _bucket series grouped by le.
func checkExpr(cat catalog, expr string) []error {
	parsed, err := promqlParser.ParseExpr(expr)
	if err != nil {
		return []error{fmt.Errorf("invalid PromQL: %w", err)}
	}

	var errs []error
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		switch node := node.(type) {
		case *parser.VectorSelector:
			errs = append(errs, checkSelector(cat, node)...)
		case *parser.AggregateExpr:
			errs = append(errs, checkGrouping(cat, node)...)
		case *parser.Call:
			errs = append(errs, checkCall(cat, node)...)
		}
		return nil
	})
	if len(selectorsUnder(parsed)) == 0 {
		errs = append(errs, fmt.Errorf("expression %q selects no metric", expr))
	}
	return errs
}

func checkSelector(cat catalog, selector *parser.VectorSelector) []error {
	name := selectorName(selector)
	s, ok := cat.series[name]
	if !ok {
		return []error{fmt.Errorf("metric %q is not defined by any instrument in %v", name, sourceDirs)}
	}

	var errs []error
	for _, matcher := range selector.LabelMatchers {
		if matcher.Name == model.MetricNameLabel {
			continue
		}
		if !s.labels[matcher.Name] {
			errs = append(errs, fmt.Errorf("metric %s has no label %q (labels: %v)", name, matcher.Name, sortedKeys(s.labels)))
			continue
		}
		errs = append(errs, checkMatcherValues(cat, name, matcher)...)
	}
	return errs
}

// checkMatcherValues checks that each literal value of a matcher on a
// value-checked label is a string literal of the Go source.
func checkMatcherValues(cat catalog, metric string, matcher *labels.Matcher) []error {
	if !valueCheckedLabels[matcher.Name] {
		return nil
	}

	var values []string
	switch matcher.Type {
	case labels.MatchEqual, labels.MatchNotEqual:
		values = []string{matcher.Value}
	case labels.MatchRegexp, labels.MatchNotRegexp:
		if !plainAlternation.MatchString(matcher.Value) {
			return []error{fmt.Errorf("metric %s: matcher %s uses a pattern; list the values as a|b|c so they can be checked", metric, matcher)}
		}
		values = strings.Split(matcher.Value, "|")
	}

	var errs []error
	for _, value := range values {
		if !cat.literals[value] {
			errs = append(errs, fmt.Errorf("metric %s: %s value %q is not a string literal anywhere in %v", metric, matcher.Name, value, sourceDirs))
		}
	}
	return errs
}

// checkGrouping checks that each label of by (...) is carried by at least one
// metric the aggregation reads.
func checkGrouping(cat catalog, agg *parser.AggregateExpr) []error {
	available := map[string]bool{}
	for _, selector := range selectorsUnder(agg.Expr) {
		for label := range cat.series[selectorName(selector)].labels {
			available[label] = true
		}
	}

	var errs []error
	for _, label := range agg.Grouping {
		if !available[label] {
			errs = append(errs, fmt.Errorf("%s groups by %q, which none of its metrics carries", agg.Op, label))
		}
	}
	return errs
}

func checkCall(cat catalog, call *parser.Call) []error {
	switch {
	case counterFunctions[call.Func.Name]:
		return checkCounterCall(cat, call)
	case call.Func.Name == "histogram_quantile":
		return checkQuantileCall(cat, call)
	}
	return nil
}

func checkCounterCall(cat catalog, call *parser.Call) []error {
	var errs []error
	for _, selector := range selectorsUnder(call) {
		name := selectorName(selector)
		if s, ok := cat.series[name]; ok && !s.cumulative {
			errs = append(errs, fmt.Errorf("%s over %s, which is a gauge", call.Func.Name, name))
		}
	}
	return errs
}

// checkQuantileCall requires histogram_quantile to read only _bucket series
// and every aggregation inside it to keep le.
func checkQuantileCall(cat catalog, call *parser.Call) []error {
	if len(call.Args) != 2 {
		return []error{fmt.Errorf("histogram_quantile takes 2 arguments, got %d", len(call.Args))}
	}

	var errs []error
	for _, selector := range selectorsUnder(call.Args[1]) {
		if name := selectorName(selector); !strings.HasSuffix(name, "_bucket") {
			errs = append(errs, fmt.Errorf("histogram_quantile reads %s, which is not a _bucket series", name))
		}
	}
	parser.Inspect(call.Args[1], func(node parser.Node, _ []parser.Node) error {
		agg, ok := node.(*parser.AggregateExpr)
		if ok && (agg.Without || !slices.Contains(agg.Grouping, "le")) {
			errs = append(errs, fmt.Errorf("histogram_quantile over %s, which does not keep le", agg.Op))
		}
		return nil
	})
	return errs
}

func selectorsUnder(node parser.Node) []*parser.VectorSelector {
	var selectors []*parser.VectorSelector
	parser.Inspect(node, func(node parser.Node, _ []parser.Node) error {
		if selector, ok := node.(*parser.VectorSelector); ok {
			selectors = append(selectors, selector)
		}
		return nil
	})
	return selectors
}

// selectorName returns the metric name of a selector, also when it is given
// as a __name__ matcher.
func selectorName(selector *parser.VectorSelector) string {
	if selector.Name != "" {
		return selector.Name
	}
	for _, matcher := range selector.LabelMatchers {
		if matcher.Name == model.MetricNameLabel && matcher.Type == labels.MatchEqual {
			return matcher.Value
		}
	}
	return ""
}
