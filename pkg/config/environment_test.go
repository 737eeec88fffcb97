package config

import (
	"strings"
	"testing"
)

type environmentConfig struct {
	Environment Environment `env:"LEDGER_ENV" envDefault:"development"`
}

func TestEnvironmentLoad(t *testing.T) {
	for value, production := range map[string]bool{"": false, "development": false, "production": true} {
		t.Setenv("LEDGER_ENV", value)
		cfg, err := Load[environmentConfig]()
		if err != nil {
			t.Fatalf("LEDGER_ENV=%q: %v", value, err)
		}
		if err := cfg.Environment.Validate(); err != nil {
			t.Errorf("LEDGER_ENV=%q: Validate = %v, want nil", value, err)
		}
		if got := cfg.Environment.IsProduction(); got != production {
			t.Errorf("LEDGER_ENV=%q: IsProduction = %t, want %t", value, got, production)
		}
	}
}

func TestEnvironmentValidate(t *testing.T) {
	err := Environment("Production").Validate()
	if err == nil || err.Error() != `LEDGER_ENV is "Production", it must be production or development` {
		t.Errorf("Validate = %v, want the value and the allowed values named", err)
	}
}

func TestEnvironmentRedacted(t *testing.T) {
	out := renderJSON(t, Redacted(environmentConfig{Environment: Production}))
	if !strings.Contains(out, `"LEDGER_ENV":"production"`) {
		t.Errorf("output does not show LEDGER_ENV: %s", out)
	}
}
