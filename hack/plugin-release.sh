#!/usr/bin/env bash
# Builds the kubectl plugin's release archives and the krew manifest that
# names them, with their checksums:
#   dist/kubectl-account_<os>_<arch>.tar.gz   (kubectl-account and kubectl_complete-account)
#   dist/checksums.txt                        (sha256sum format)
#   dist/account.yaml                         (krew plugin manifest)
# Usage: hack/plugin-release.sh VERSION [BASE_URL]
#   BASE_URL is where the archives will be published (default: the GitHub
#   release of VERSION).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:?usage: hack/plugin-release.sh VERSION [BASE_URL]}"
BASE_URL="${2:-https://github.com/accountops/account-lifecycle-operator/releases/download/$VERSION}"
PLATFORMS=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
rm -rf dist && mkdir -p dist
for p in "${PLATFORMS[@]}"; do
  os="${p%/*}" arch="${p#*/}" dir="dist/kubectl-account_${os}_${arch}"
  mkdir -p "$dir"
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath \
    -ldflags "-s -w -X github.com/accountops/account-lifecycle-operator/internal/cli.Version=$VERSION" \
    -o "$dir/kubectl-account" ./cmd/kubectl-account
  cp hack/kubectl_complete-account "$dir/"
  tar -C "$dir" -czf "$dir.tar.gz" kubectl-account kubectl_complete-account
  rm -rf "$dir"
done
(cd dist && sha256sum ./*.tar.gz | sed 's# \./# #' > checksums.txt)
{
  cat <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: account
spec:
  version: $VERSION
  homepage: https://github.com/accountops/account-lifecycle-operator
  shortDescription: Record incidents and decisions on customer accounts
  description: |
    Records incidents, appeals and decisions on the CustomerAccounts of
    account-lifecycle-operator, explains where an account stands and what
    happens next, and simulates a candidate AccountPolicy offline.
  platforms:
YAML
  for p in "${PLATFORMS[@]}"; do
    os="${p%/*}" arch="${p#*/}" file="kubectl-account_${os}_${arch}.tar.gz"
    sum="$(awk -v f="$file" '$2 == f {print $1}' dist/checksums.txt)"
    cat <<YAML
  - selector:
      matchLabels: {os: $os, arch: $arch}
    uri: $BASE_URL/$file
    sha256: $sum
    bin: kubectl-account
    files:
    - {from: kubectl-account, to: .}
    - {from: kubectl_complete-account, to: .}
YAML
  done
} > dist/account.yaml
echo "dist/: $(ls dist | tr '\n' ' ')"
