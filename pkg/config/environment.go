package config

import "fmt"

// Environment is the deployment environment, read from LEDGER_ENV.
type Environment string

// Values of Environment.
const (
	Development Environment = "development"
	// Production turns GraphQL introspection off and rejects plaintext
	// connections to non-loopback addresses at start.
	Production Environment = "production"
)

// IsProduction reports whether e is Production.
func (e Environment) IsProduction() bool {
	return e == Production
}

// Validate returns an error unless e is Development or Production.
func (e Environment) Validate() error {
	if e != Development && e != Production {
		return fmt.Errorf("LEDGER_ENV is %q, it must be production or development", string(e))
	}
	return nil
}
