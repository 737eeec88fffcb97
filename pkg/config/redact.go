package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// secretMask replaces the value of a non-empty secret.
const secretMask = "***"

// Redacted returns a slog group value of cfg's exported fields, keyed by
// their environment variable names (the Go field name when a field has no env
// tag), so a config can be logged at start:
//
//	logger.Info("config loaded", "config", config.Redacted(cfg))
//
// Fields tagged `secret:"true"` show "***", or "" when empty. Every other
// string field that parses as a URL with a password shows the URL with the
// password replaced by "***". Fields of nested structs are flattened into the
// group. A cfg that is not a struct or a pointer to one returns an empty
// group.
func Redacted(cfg any) slog.Value {
	value := reflect.ValueOf(cfg)
	for value.Kind() == reflect.Pointer && !value.IsNil() {
		value = value.Elem()
	}

	if value.Kind() != reflect.Struct {
		return slog.GroupValue()
	}

	return slog.GroupValue(redactedAttrs(value, "")...)
}

func redactedAttrs(value reflect.Value, prefix string) []slog.Attr {
	var attrs []slog.Attr

	for i := range value.NumField() {
		field := value.Type().Field(i)
		if !field.IsExported() {
			continue
		}

		name, _, _ := strings.Cut(field.Tag.Get("env"), ",")
		if name == "-" {
			continue
		}

		fieldValue := value.Field(i)
		if nested, ok := nestedStruct(fieldValue); ok {
			attrs = append(attrs, redactedAttrs(nested, prefix+field.Tag.Get("envPrefix"))...)
			continue
		}

		if name == "" {
			name = field.Name
		}

		attrs = append(attrs, slog.Attr{Key: prefix + name, Value: redactedValue(fieldValue, isSecret(field))})
	}

	return attrs
}

// nestedStruct returns the struct behind a struct or non-nil struct pointer
// field, unless the type parses from text (such as time.Time) and so is a
// single value.
func nestedStruct(value reflect.Value) (reflect.Value, bool) {
	if value.Kind() == reflect.Pointer {
		if value.IsNil() {
			return reflect.Value{}, false
		}
		value = value.Elem()
	}

	if value.Kind() != reflect.Struct || isTextUnmarshaler(value.Type()) {
		return reflect.Value{}, false
	}

	return value, true
}

func redactedValue(value reflect.Value, secret bool) slog.Value {
	if secret {
		if value.IsZero() {
			return slog.StringValue("")
		}
		return slog.StringValue(secretMask)
	}

	switch v := value.Interface().(type) {
	case string:
		return slog.StringValue(maskURLPassword(v))
	case time.Duration:
		return slog.StringValue(v.String())
	case *url.URL:
		if v == nil {
			return slog.StringValue("")
		}
		return slog.StringValue(maskURLPassword(v.String()))
	case url.URL:
		return slog.StringValue(maskURLPassword(v.String()))
	case fmt.Stringer:
		return slog.StringValue(v.String())
	default:
		return slog.AnyValue(v)
	}
}

// maskURLPassword returns s with the password of a URL replaced by "***".
// Strings that are not URLs with a password are returned unchanged.
func maskURLPassword(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}

	parsed, err := url.Parse(s)
	if err != nil {
		// A string that looks like a URL but does not parse may still
		// contain a password, so none of it is shown.
		return secretMask
	}

	if _, hasPassword := parsed.User.Password(); !hasPassword {
		return s
	}

	// url.URL.Redacted writes the password as "xxxxx". It is swapped for
	// the mask afterwards because URL.String would percent-encode "*".
	// The first ":xxxxx@" is the user info, since an escaped user name
	// cannot contain "@".
	return strings.Replace(parsed.Redacted(), ":xxxxx@", ":"+secretMask+"@", 1)
}
