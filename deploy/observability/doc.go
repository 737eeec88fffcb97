// Package observability contains no code. Its tests check the Prometheus
// alerting rules in deploy/prometheus and the Grafana dashboard in
// deploy/grafana against the metrics that the Go source of the services
// defines, and the alerts' runbook links against docs/operations.md.
package observability
