package redistest

import (
	"context"
	"regexp"
	"testing"
)

func TestNewClientPrefixAndCleanup(t *testing.T) {
	ctx := context.Background()

	var prefix string

	t.Run("inner/case *1", func(t *testing.T) {
		client, p := NewClient(t)
		prefix = p

		want := regexp.MustCompile(`^test:TestNewClientPrefixAndCleanup_inner_case__1:[0-9a-f]{8}:$`)
		if !want.MatchString(prefix) {
			t.Errorf("prefix = %q, want match %s", prefix, want)
		}

		for _, k := range []string{"a", "b", "c"} {
			if err := client.Set(ctx, prefix+k, "1", 0).Err(); err != nil {
				t.Fatalf("set %s: %v", k, err)
			}
		}
	})

	client, _ := NewClient(t)

	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatalf("keys: %v", err)
	}

	if len(keys) != 0 {
		t.Errorf("keys left after cleanup = %v, want none", keys)
	}
}
