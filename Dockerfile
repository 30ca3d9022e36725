# Build a static manager binary, then ship it alone on a distroless base as
# a non-root user: the image `make image` builds without Docker.
#
# Both bases are pinned by digest, so a rebuild uses the same bytes until
# the pins are bumped on purpose (Renovate and Dependabot update such pins).
# The builder runs on the build machine's platform and cross-compiles, so a
# multi-platform build (docker buildx --platform linux/amd64,linux/arm64)
# needs no emulation. The digests were taken from public pins of these tags
# (golang:1.26.8, distroless static:nonroot on Debian 13): this project's
# own machines cannot reach the registries to pull them.
FROM --platform=$BUILDPLATFORM golang:1.26.8@sha256:6c2a5538f964f1c82f97ad14988bf05de100d922d159d0e398b54c7b0ca0c6c9 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager ./cmd

FROM gcr.io/distroless/static:nonroot@sha256:e2e927ec666bae08560abb3c55d0659eceabb657f56b6782ab500a9fc7f555e3
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
EXPOSE 8080 8081 8443
ENTRYPOINT ["/manager"]
