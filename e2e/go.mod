module github.com/advancia-pay/ledger/e2e

go 1.26.0

require (
	github.com/advancia-pay/ledger/gateway v0.0.0-00010101000000-000000000000
	github.com/advancia-pay/ledger/pkg v0.0.0-00010101000000-000000000000
	github.com/jackc/pgerrcode v0.0.0-20220416144525-469b46aa5efa
	github.com/redis/go-redis/v9 v9.23.0
	github.com/stripe/stripe-go/v76 v76.25.0
	golang.org/x/crypto v0.58.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/golang-migrate/migrate/v4 v4.20.1 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.34.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
)

require (
	github.com/advancia-pay/ledger/proto v0.0.0-00010101000000-000000000000
	github.com/advancia-pay/ledger/services/idempotency v0.0.0-00010101000000-000000000000
	github.com/advancia-pay/ledger/services/payment v0.0.0-00010101000000-000000000000
	github.com/advancia-pay/ledger/services/wallet v0.0.0-00010101000000-000000000000
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.13.0
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

replace (
	github.com/advancia-pay/ledger/gateway => ../gateway
	github.com/advancia-pay/ledger/pkg => ../pkg
	github.com/advancia-pay/ledger/proto => ../proto
)

replace github.com/advancia-pay/ledger/services/wallet => ../services/wallet

replace github.com/advancia-pay/ledger/services/payment => ../services/payment

replace github.com/advancia-pay/ledger/services/idempotency => ../services/idempotency
