// Package config loads typed service configuration from environment variables
// with github.com/caarlos0/env/v11.
//
// A service declares a struct with `env:"NAME"` tags (plus `envDefault:"..."`
// and the `required` option) and embeds the common blocks of this package:
//
//	type Config struct {
//		config.Server
//		DatabaseURL string `env:"DATABASE_URL,required" secret:"true"`
//	}
//
// env/v11 parses an embedded struct such as Server with its own tags, so a
// service cannot change the envDefault of an embedded field. A service passes
// its own defaults as a prefilled struct to LoadWithDefaults instead:
//
//	cfg, err := config.LoadWithDefaults(Config{Server: config.Server{
//		GRPCAddr:  "127.0.0.1:9091",
//		AdminAddr: "127.0.0.1:9191",
//	}})
//
// The value of a field comes from, in this order: its environment variable
// when set and non-empty, the prefilled value when non-zero, its envDefault
// tag. Tag `secret:"true"` on a field hides its value in Redacted.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Validator is implemented by configs that check their values after parsing.
// Validate returns errors.Join of every problem, each naming its variable.
type Validator interface {
	Validate() error
}

// LoadError lists every problem found while loading a config, one per line.
// Problems keeps the original errors, so errors.As finds env/v11 error types
// such as env.VarIsNotSetError.
type LoadError struct {
	Problems []error
}

// Error returns a header line followed by one problem per line.
func (e *LoadError) Error() string {
	var b strings.Builder
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "invalid configuration (%d %s):", len(e.Problems), noun)

	for _, problem := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(problem.Error())
	}

	return b.String()
}

// Unwrap returns the problems.
func (e *LoadError) Unwrap() []error {
	return e.Problems
}

// Load fills a new T from the environment and validates it as
// LoadWithDefaults does with a zero T.
func Load[T any]() (T, error) {
	var zero T
	return LoadWithDefaults(zero)
}

// LoadWithDefaults fills a copy of defaults from the environment, then calls
// Validate when *T implements Validator. Validate runs even after parse
// problems, so the returned *LoadError lists parse errors, missing required
// variables and validation errors at once. On failure it returns the zero T.
// T must be a struct type. Each environment variable is read once, so
// concurrent calls are safe while nothing changes the environment.
func LoadWithDefaults[T any](defaults T) (T, error) {
	var zero T

	if reflect.TypeOf(defaults) == nil || reflect.TypeOf(defaults).Kind() != reflect.Struct {
		return zero, fmt.Errorf("config: load %T: type must be a struct", defaults)
	}

	cfg, problems := parse(defaults)

	if validator, ok := any(&cfg).(Validator); ok {
		problems = append(problems, flatten(validator.Validate())...)
	}

	if len(problems) > 0 {
		return zero, &LoadError{Problems: problems}
	}

	return cfg, nil
}

// parse applies envDefault tags, then the non-zero fields of defaults, then
// the environment, and returns the result with one problem per failed field.
func parse[T any](defaults T) (T, []error) {
	keys := fieldKeys(reflect.TypeOf(defaults), "")

	// The snapshot is taken first because the `unset` tag option makes env
	// remove a variable while parsing.
	environment := env.ToMap(os.Environ())

	// Tag defaults only: an empty environment makes every field fall back
	// to its envDefault. Missing required variables are reported by the
	// second pass, so only the tag parse errors matter here.
	base, err := env.ParseAsWithOptions[T](env.Options{Environment: map[string]string{}})
	problems := describe(parseErrorsOnly(err), keys, "invalid envDefault tag")

	mergeNonZero(reflect.ValueOf(&base).Elem(), reflect.ValueOf(defaults))

	// Environment only: with the default tag renamed to one that no field
	// uses, unset variables keep the merged value.
	err = env.ParseWithOptions(&base, env.Options{
		Environment:         environment,
		DefaultValueTagName: "configNoDefault",
	})
	problems = append(problems, describe(err, keys, "invalid value")...)

	return base, problems
}

// parseErrorsOnly keeps the env.ParseError values of err.
//
// NOTE: this also drops an env.LoadFileContentError for a `file` field whose
// envDefault names a missing file, so such a field stays empty without a
// reported problem when its variable is unset.
func parseErrorsOnly(err error) error {
	var parseErrors []error
	for _, problem := range flatten(err) {
		var parseErr env.ParseError
		if errors.As(problem, &parseErr) {
			parseErrors = append(parseErrors, problem)
		}
	}

	return errors.Join(parseErrors...)
}

// flatten splits err into its joined or aggregated errors.
func flatten(err error) []error {
	if err == nil {
		return nil
	}

	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}

	var all []error
	for _, inner := range multi.Unwrap() {
		all = append(all, flatten(inner)...)
	}

	return all
}

// mergeNonZero copies every non-zero settable field of src into dst,
// descending into nested structs so a prefilled embedded block only replaces
// the fields it sets.
func mergeNonZero(dst, src reflect.Value) {
	for i := range src.NumField() {
		srcField, dstField := src.Field(i), dst.Field(i)
		if !dstField.CanSet() || srcField.IsZero() {
			continue
		}

		if srcField.Kind() == reflect.Struct && !isTextUnmarshaler(srcField.Type()) {
			mergeNonZero(dstField, srcField)
			continue
		}

		dstField.Set(srcField)
	}
}
