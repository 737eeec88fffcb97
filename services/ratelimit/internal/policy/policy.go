// Package policy loads and validates rate limit policies from YAML.
//
// A policy file names tiers. A tier applies to the descriptors whose
// route_class matches, and whose role matches when the tier names one. It
// counts requests per value of the first key_by entry present, and allows
// limit requests in any sliding window of the tier's length.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Failure modes: what a tier decides when Redis cannot be reached.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// Policy is the parsed policy file.
type Policy struct {
	// Domain is the name requests must send, such as "gateway".
	Domain string `yaml:"domain"`
	Tiers  []Tier `yaml:"tiers"`
}

// Tier is one limit.
type Tier struct {
	Name string `yaml:"name"`
	// RouteClass is the descriptor route_class the tier applies to.
	RouteClass string `yaml:"route_class"`
	// Role, when set, limits the tier to descriptors with that role;
	// "user" matches descriptors without the service role.
	Role string `yaml:"role"`
	// KeyBy lists descriptor entries; the first one present keys the
	// counter, such as [client, ip].
	KeyBy []string `yaml:"key_by"`
	Limit uint32   `yaml:"limit"`
	// Window is the sliding window length, such as 1s, 1m, 15m, 1h.
	Window time.Duration `yaml:"window"`
	// OnRedisFailure is "open" or "closed".
	OnRedisFailure string `yaml:"on_redis_failure"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Load reads and validates a policy file.
func Load(path string) (*Policy, error) {
	raw, err := os.ReadFile(path) // #nosec G304 -- the operator sets the policy file path
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}

// Parse decodes a policy, rejecting unknown fields, and validates it,
// reporting every problem at once.
func Parse(raw []byte) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate reports every problem of the policy at once.
func (p *Policy) Validate() error {
	var errs []error
	if p.Domain == "" {
		errs = append(errs, errors.New("domain is missing"))
	}
	if len(p.Tiers) == 0 {
		errs = append(errs, errors.New("no tiers are defined"))
	}
	seen := map[string]bool{}
	for i, t := range p.Tiers {
		where := fmt.Sprintf("tier %d (%q)", i+1, t.Name)
		if seen[t.Name] {
			errs = append(errs, fmt.Errorf("%s: the name is used twice", where))
		}
		seen[t.Name] = true
		errs = append(errs, t.validate(where)...)
	}
	return errors.Join(errs...)
}

func (t Tier) validate(where string) []error {
	var errs []error
	if !namePattern.MatchString(t.Name) {
		errs = append(errs, fmt.Errorf("%s: name must be lower-case letters, digits, - or _, at most 63", where))
	}
	if t.RouteClass == "" {
		errs = append(errs, fmt.Errorf("%s: route_class is missing", where))
	}
	if t.Role != "" && t.Role != "service" && t.Role != "user" {
		errs = append(errs, fmt.Errorf("%s: role must be service, user or empty, got %q", where, t.Role))
	}
	if len(t.KeyBy) == 0 {
		errs = append(errs, fmt.Errorf("%s: key_by needs at least one entry, such as [client, ip]", where))
	}
	if t.Limit == 0 || t.Limit > 100_000 {
		errs = append(errs, fmt.Errorf("%s: limit must be 1 to 100000, got %d", where, t.Limit))
	}
	if t.Window < time.Second || t.Window > 24*time.Hour {
		errs = append(errs, fmt.Errorf("%s: window must be 1s to 24h, got %s", where, t.Window))
	}
	if t.OnRedisFailure != FailOpen && t.OnRedisFailure != FailClosed {
		errs = append(errs, fmt.Errorf("%s: on_redis_failure must be open or closed, got %q", where, t.OnRedisFailure))
	}
	return errs
}

// Match returns the tiers that apply to a descriptor, with the counter key
// of each: the first present key_by entry as "entry=value".
func (p *Policy) Match(entries map[string]string) []Matched {
	var out []Matched
	for _, t := range p.Tiers {
		if entries["route_class"] != t.RouteClass || !roleMatches(t.Role, entries["role"]) {
			continue
		}
		for _, k := range t.KeyBy {
			if v := entries[k]; v != "" {
				out = append(out, Matched{Tier: t, Key: k + "=" + v})
				break
			}
		}
	}
	return out
}

// Matched is a tier with the key it counts under.
type Matched struct {
	Tier Tier
	Key  string
}

func roleMatches(tierRole, role string) bool {
	switch tierRole {
	case "":
		return true
	case "user":
		return role != "service"
	}
	return tierRole == role
}
