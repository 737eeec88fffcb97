# syntax=docker/dockerfile:1
#
# Builds one of the ledger's processes into a distroless image:
#
#   docker build --build-arg SERVICE=walletd -t ledger/walletd .
#
# SERVICE is walletd, paymentd, idempotencyd, ratelimitd or gatewayd. The
# binary is static (CGO_ENABLED=0) and writes nothing to disk, so the
# container runs with a read-only root filesystem as user 65532.

FROM golang:1.26-bookworm AS build

ARG SERVICE
WORKDIR /src

# The whole workspace (go.work and every module it lists) is copied, so
# the build resolves the same module versions as `make build`. Modules are
# fetched on demand into the cache mount, which outlives the layer: a
# workspace-wide `go mod download` would also fetch the test-only
# dependencies of the deploy module.
COPY . .

# Maps SERVICE to its main package and stages the files the final image
# needs under /out: the binary, and for ratelimitd its policy.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    case "${SERVICE:-}" in \
      walletd)      pkg=./services/wallet/cmd/walletd ;; \
      paymentd)     pkg=./services/payment/cmd/paymentd ;; \
      idempotencyd) pkg=./services/idempotency/cmd/idempotencyd ;; \
      ratelimitd)   pkg=./services/ratelimit/cmd/ratelimitd ;; \
      gatewayd)     pkg=./gateway/cmd/gatewayd ;; \
      *) echo "build-arg SERVICE is '${SERVICE:-}', it must be walletd, paymentd, idempotencyd, ratelimitd or gatewayd" >&2; exit 1 ;; \
    esac; \
    mkdir -p /out/bin /out/etc; \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/bin/ledger-service "$pkg"; \
    if [ "$SERVICE" = ratelimitd ]; then \
      mkdir -p /out/etc/ratelimit; \
      cp deploy/ratelimit/policies.yaml /out/etc/ratelimit/policies.yaml; \
    fi

FROM gcr.io/distroless/static-debian12:nonroot

ARG SERVICE
LABEL org.opencontainers.image.title="advancia-ledger-${SERVICE}" \
      org.opencontainers.image.description="Advancia Pay Ledger ${SERVICE}"

COPY --from=build /out/bin/ledger-service /usr/local/bin/ledger-service
# Empty except in the ratelimitd image, which gets its policy here.
COPY --from=build /out/etc/ /etc/ledger/
ENV RATELIMIT_POLICY_FILE=/etc/ledger/ratelimit/policies.yaml

USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ledger-service"]
