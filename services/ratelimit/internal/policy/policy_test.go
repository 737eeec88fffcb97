package policy

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultPolicyLoads(t *testing.T) {
	p, err := Load("../../../../deploy/ratelimit/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Domain != "gateway" || len(p.Tiers) != 14 {
		t.Errorf("policy = %s with %d tiers, want gateway with 14", p.Domain, len(p.Tiers))
	}
	got := p.Match(map[string]string{"route_class": "payments", "client": "user-1"})
	if len(got) != 1 || got[0].Tier.Name != "payments-per-minute" || got[0].Tier.Limit != 5 || got[0].Tier.Window != time.Minute {
		t.Errorf("payments match = %+v, want payments-per-minute 5/1m", got)
	}
	anonymous := p.Match(map[string]string{"route_class": "api", "ip": "127.0.0.1"})
	if len(anonymous) != 3 || anonymous[0].Key != "ip=127.0.0.1" {
		t.Errorf("anonymous api match = %+v, want the three user tiers keyed by ip", anonymous)
	}
	service := p.Match(map[string]string{"route_class": "api", "client": "billing", "role": "service"})
	if len(service) != 2 || service[0].Tier.Name != "service-per-second" {
		t.Errorf("service api match = %+v, want the two service tiers", service)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`
tiers:
  - {name: a, route_class: api, key_by: [client], limit: 0, window: 1s, on_redis_failure: open}
  - {name: a, route_class: "", key_by: [], limit: 5, window: 500ms, on_redis_failure: maybe, role: admin}
`))
	if err == nil {
		t.Fatal("Parse = nil error, want problems")
	}
	for _, want := range []string{"domain is missing", "limit must be 1 to 100000", "used twice", "route_class is missing",
		"key_by needs", "window must be 1s to 24h", "on_redis_failure must be open or closed", "role must be"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestParseRejectsUnknownFields(t *testing.T) {
	_, err := Parse([]byte("domain: gateway\ntiers:\n  - {name: a, route_class: api, key_by: [ip], limit: 1, window: 1s, on_redis_failure: open, burst: 3}\n"))
	if err == nil || !strings.Contains(err.Error(), "burst") {
		t.Errorf("Parse = %v, want an error naming the unknown field burst", err)
	}
}
