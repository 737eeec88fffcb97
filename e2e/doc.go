// Package e2e holds black-box tests of the REST API. TestMain builds walletd
// and gatewayd with the race detector, and each top-level test runs both as
// child processes against the PostgreSQL and Redis servers on 127.0.0.1.
//
// Every top-level test starts its own stack: an empty database that walletd
// migrates, free 127.0.0.1 ports and a random JWT secret. Top-level tests
// therefore run in parallel. The subtests of one test share its stack and
// run in order, because each step checks balances left by the steps before.
//
// The tests build packages from other modules of this repository, so they
// need the go.work workspace at the repository root and fail with GOWORK=off.
package e2e
