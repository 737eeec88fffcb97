# A Dockerfile that breaks the image rules. The negative test expects each
# violation with its line.
FROM golang:1.26-bookworm AS build
ADD \
    https://example.com/tool.tar.gz /tmp/
RUN go build -o /app .

FROM debian:bookworm
ADD http://example.com/config.yaml /etc/app/
COPY --from=build /app /app
USER root
ENTRYPOINT ["/app"]
