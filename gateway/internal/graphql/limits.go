package graphql

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/complexity"
	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/advancia-pay/ledger/gateway/internal/graphql/generated"
)

// Limits on one HTTP request, checked before anything executes.
const (
	// maxBodyBytes bounds the request body: 64 KiB.
	maxBodyBytes = 64 << 10
	// maxOperations bounds the operations batched in one JSON array.
	maxOperations = 3
	// maxTokens bounds the lexical tokens of all queries of a request
	// together, before any of them is parsed.
	maxTokens = 2000
	// maxDepth bounds the nesting of fields in one operation: a top-level
	// field is at depth 1, and fragments add the depth of their fields.
	maxDepth = 7
	// maxComplexity bounds the cost of one operation, as costed by
	// setComplexity.
	maxComplexity = 1000
	// maxAliases bounds the aliased fields of one operation and the
	// fragments it uses, each fragment counted once.
	maxAliases = 15
)

// Page sizes of the list fields, as the wallet and payment services apply
// them.
const (
	defaultPageSize = 50
	maxPageSize     = 100
)

// limits rejects operations over the depth, alias, complexity and
// introspection limits. gqlgen runs it after parsing and validation and
// before execution, once per operation.
type limits struct {
	schema     gql.ExecutableSchema
	production bool
}

var _ interface {
	gql.HandlerExtension
	gql.OperationContextMutator
} = (*limits)(nil)

// ExtensionName names the extension in gqlgen's statistics.
func (*limits) ExtensionName() string { return "LedgerLimits" }

// Validate accepts every schema.
func (*limits) Validate(gql.ExecutableSchema) error { return nil }

// MutateOperationContext returns the first limit the operation exceeds, or
// nil.
func (l *limits) MutateOperationContext(ctx context.Context, op *gql.OperationContext) *gqlerror.Error {
	fields := collectFields(op.Doc, op.Operation)
	if l.production && fields.introspection {
		return limitError(codeIntrospectionDisabled, "introspection is disabled")
	}
	if fields.aliases > maxAliases {
		return limitError(codeTooManyAliases, "the operation has %d aliases, the limit is %d", fields.aliases, maxAliases)
	}

	meter := depthMeter{doc: op.Doc, fragments: map[string]int{}}
	if depth := meter.depth(op.Operation.SelectionSet); depth > maxDepth {
		return limitError(codeQueryTooDeep, "the operation nests fields %d deep, the limit is %d", depth, maxDepth)
	}

	if cost := complexity.Calculate(ctx, l.schema, op.Operation, op.Variables); cost > maxComplexity {
		return limitError(codeQueryTooComplex, "the operation has complexity %d, the limit is %d", cost, maxComplexity)
	}
	return nil
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// fieldSummary describes the fields of an operation and of the fragments
// it uses, each fragment visited once.
type fieldSummary struct {
	aliases       int
	introspection bool
}

func collectFields(doc *ast.QueryDocument, op *ast.OperationDefinition) fieldSummary {
	var summary fieldSummary
	visited := map[string]bool{}

	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, selection := range set {
			switch s := selection.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					summary.aliases++
				}
				if isIntrospection(s) {
					summary.introspection = true
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if visited[s.Name] {
					continue
				}
				visited[s.Name] = true
				if fragment := fragmentOf(doc, s); fragment != nil {
					walk(fragment.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	return summary
}

// isIntrospection reports whether field is one of the introspection entry
// points; __typename is not one.
func isIntrospection(field *ast.Field) bool {
	return field.Name == "__schema" || field.Name == "__type"
}

// fragmentOf returns the definition a spread refers to. Validation links
// them; the lookup covers a document that was not validated.
func fragmentOf(doc *ast.QueryDocument, spread *ast.FragmentSpread) *ast.FragmentDefinition {
	if spread.Definition != nil {
		return spread.Definition
	}
	return doc.Fragments.ForName(spread.Name)
}

// depthMeter measures the nesting of fields. The depth of each fragment is
// computed once, so that fragments spreading other fragments several
// times cost linear time. The fields under __schema and __type are not
// counted: gqlparser's MaxIntrospectionDepth validation rule bounds them,
// and introspection queries of tools nest deeper than maxDepth.
type depthMeter struct {
	doc       *ast.QueryDocument
	fragments map[string]int
}

func (m *depthMeter) depth(set ast.SelectionSet) int {
	deepest := 0
	for _, selection := range set {
		var depth int
		switch s := selection.(type) {
		case *ast.Field:
			depth = 1
			if !isIntrospection(s) {
				depth += m.depth(s.SelectionSet)
			}
		case *ast.InlineFragment:
			depth = m.depth(s.SelectionSet)
		case *ast.FragmentSpread:
			depth = m.fragmentDepth(s)
		}
		deepest = max(deepest, depth)
	}
	return deepest
}

func (m *depthMeter) fragmentDepth(spread *ast.FragmentSpread) int {
	if depth, ok := m.fragments[spread.Name]; ok {
		return depth
	}
	fragment := fragmentOf(m.doc, spread)
	if fragment == nil {
		return 0
	}

	// Validation rejects fragment cycles before this runs; the entry only
	// keeps a cycle from recursing without end.
	m.fragments[spread.Name] = 0
	depth := m.depth(fragment.SelectionSet)
	m.fragments[spread.Name] = depth
	return depth
}

// setComplexity costs the list fields at their page size times the cost of
// their selections. Every other field keeps gqlgen's default cost: 1 plus
// the cost of its selections.
func setComplexity(c *generated.ComplexityRoot) {
	c.Query.Wallets = func(child int) int {
		return listCost(nil, child)
	}
	c.Query.Transactions = func(child int, _ string, pageSize *int32, _ *string) int {
		return listCost(pageSize, child)
	}
	c.Query.Payments = func(child int, pageSize *int32, _ *string) int {
		return listCost(pageSize, child)
	}
	c.Wallet.Transactions = func(child int, pageSize *int32, _ *string) int {
		return listCost(pageSize, child)
	}
}

// listCost is pageSize times child, with the default page size when
// pageSize is nil and the largest one when it is out of range (such a
// request fails when it executes). It saturates instead of overflowing.
func listCost(pageSize *int32, child int) int {
	size := defaultPageSize
	if pageSize != nil {
		size = int(*pageSize)
		if size < 1 || size > maxPageSize {
			size = maxPageSize
		}
	}
	if child > math.MaxInt/size {
		return math.MaxInt
	}
	return size * child
}

// countTokens returns the lexical tokens of query, comments excluded as
// the GraphQL specification ignores them, counting at most limit+1. A
// query the lexer cannot read is left for the parser to report.
func countTokens(query string, limit int) int {
	lex := lexer.New(&ast.Source{Input: query})
	count := 0
	for count <= limit {
		token, err := lex.ReadToken()
		if err != nil || token.Kind == lexer.EOF {
			break
		}
		if token.Kind != lexer.Comment {
			count++
		}
	}
	return count
}
