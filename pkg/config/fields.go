package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
)

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func isTextUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// fieldKey is the environment variable of one struct field.
type fieldKey struct {
	key    string
	secret bool
}

// fieldKeys maps Go field names to their environment variables, following
// nested structs and envPrefix tags the way env/v11 does. env.ParseError
// names only the Go field, so a name used in two nested structs maps to both
// variables.
func fieldKeys(t reflect.Type, prefix string) map[string][]fieldKey {
	keys := map[string][]fieldKey{}

	for _, field := range reflect.VisibleFields(t) {
		if !field.IsExported() || len(field.Index) > 1 {
			continue
		}

		name, _, _ := strings.Cut(field.Tag.Get("env"), ",")
		if name == "-" {
			continue
		}

		fieldType := field.Type
		if fieldType.Kind() == reflect.Pointer {
			fieldType = fieldType.Elem()
		}

		if fieldType.Kind() == reflect.Struct && !isTextUnmarshaler(fieldType) {
			for goName, nested := range fieldKeys(fieldType, prefix+field.Tag.Get("envPrefix")) {
				keys[goName] = append(keys[goName], nested...)
			}
			continue
		}

		if name != "" {
			keys[field.Name] = append(keys[field.Name], fieldKey{key: prefix + name, secret: isSecret(field)})
		}
	}

	return keys
}

func isSecret(field reflect.StructField) bool {
	return field.Tag.Get("secret") == "true"
}

// describe rewrites the problems in err so each line starts with the
// environment variable it concerns. Values of secret fields are left out.
func describe(err error, keys map[string][]fieldKey, what string) []error {
	var problems []error

	for _, problem := range flatten(err) {
		var parseErr env.ParseError
		if !errors.As(problem, &parseErr) {
			problems = append(problems, problem)
			continue
		}

		problems = append(problems, describeParseError(parseErr, keys[parseErr.Name], what))
	}

	return problems
}

// keyedError is a problem with one variable that still matches the original
// error with errors.As.
type keyedError struct {
	text string
	err  error
}

func (e *keyedError) Error() string { return e.text }
func (e *keyedError) Unwrap() error { return e.err }

func describeParseError(parseErr env.ParseError, keys []fieldKey, what string) error {
	if len(keys) == 0 {
		return parseErr
	}

	names := make([]string, 0, len(keys))
	secret := false
	for _, key := range keys {
		names = append(names, key.key)
		secret = secret || key.secret
	}

	detail := fmt.Sprintf("%s for type %s: %v", what, parseErr.Type, parseErr.Err)
	if secret {
		detail = fmt.Sprintf("%s for type %s (value hidden because the field is secret)", what, parseErr.Type)
	}

	return &keyedError{text: strings.Join(names, " or ") + ": " + detail, err: parseErr}
}
