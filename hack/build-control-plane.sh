#!/usr/bin/env bash
# Builds the control plane from the Go module proxy and caches it outside the
# checkout, so fresh clones (CI) reuse it. Idempotent: prints the cache
# directory and exits at once when the binaries are already there.
#
# envtest's usual binary download is unreachable on our machines, so we build
# the same binaries from source instead.
#
# Usage: hack/build-control-plane.sh          -> kube-apiserver and etcd (envtest)
#        hack/build-control-plane.sh --full   -> also kube-controller-manager,
#                                                kube-scheduler and kwok (the
#                                                local cluster, hack/cluster)
# Prints the bin dir on stdout.
# Env:   K8S_VERSION (1.36.3), ETCD_VERSION (3.6.16), KWOK_VERSION (0.8.0),
#        CONTROL_PLANE_CACHE
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
CACHE_ROOT="${CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/account-lifecycle-operator/k8s}"
BIN_DIR="$CACHE_ROOT/$K8S_VERSION-etcd$ETCD_VERSION"

log() { echo "[control-plane] $*" >&2; }
die() { echo "[control-plane] ERROR: $*" >&2; exit 1; }

WANT=(kube-apiserver etcd)
if [[ "${1:-}" == "--full" ]]; then
  WANT+=(kube-controller-manager kube-scheduler kwok)
fi
have_all() {
  local b
  for b in "${WANT[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
}

if have_all; then
  log "using cached binaries in $BIN_DIR"
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$BIN_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# A lock keeps two concurrent `make test` runs from building twice.
exec 9>"$CACHE_ROOT/.build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_ROOT/.build.lock; waiting for it"
  flock 9
fi
if have_all; then
  log "binaries appeared while waiting: $BIN_DIR"
  echo "$BIN_DIR"
  exit 0
fi

# k8s_module prepares one module that builds every k8s.io/kubernetes command
# we need; they share its dependencies and the Go build cache.
K8S_MODULE=""
k8s_module() {
  [[ -n "$K8S_MODULE" ]] && return 0
  local dir="$WORK/kubernetes"
  mkdir -p "$dir"
  log "k8s.io/kubernetes v$K8S_VERSION: resolving staging modules"
  local modjson gomod
  modjson="$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$K8S_VERSION")" \
    || die "cannot download k8s.io/kubernetes@v$K8S_VERSION from the module proxy"
  gomod="$(echo "$modjson" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$gomod" ]] || die "no go.mod for k8s.io/kubernetes@v$K8S_VERSION"
  # k8s.io/kubernetes replaces its staging modules with ./staging paths that
  # do not exist in the module zip; map each to its published v0.x release.
  local staging
  staging="$(grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" | awk '{print $1}' | sort -u)"
  [[ -n "$staging" ]] || die "found no staging replace directives in $gomod"
  {
    echo "module kubernetesbuild"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "  $m => $m v0.${K8S_VERSION#1.}"; done
    echo ")"
  } >"$dir/go.mod"
  printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler"\n)\n' >"$dir/tools.go"
  log "k8s.io/kubernetes v$K8S_VERSION: resolving dependencies ($(echo "$staging" | wc -l) staging modules)"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >&2) || die "go mod tidy failed for k8s.io/kubernetes"
  K8S_MODULE="$dir"
}

# build_k8s builds one command of k8s.io/kubernetes (kube-apiserver,
# kube-controller-manager, kube-scheduler).
build_k8s() {
  local cmd="$1"
  k8s_module
  log "$cmd v$K8S_VERSION: compiling (a first build takes several minutes)"
  (cd "$K8S_MODULE" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#1.}" \
    -o "$BIN_DIR/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2) || die "building $cmd failed"
  mv "$BIN_DIR/$cmd.tmp" "$BIN_DIR/$cmd"
}

# build_kwok builds KWOK's controller, which simulates nodes and the pods
# scheduled to them (no kubelet, no container runtime).
build_kwok() {
  log "kwok v$KWOK_VERSION: compiling"
  GOBIN="$WORK/kwok-bin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" >&2 || die "building kwok failed"
  mv "$WORK/kwok-bin/kwok" "$BIN_DIR/kwok"
}

build_etcd() {
  local dir="$WORK/etcd"
  mkdir -p "$dir"
  log "etcd v$ETCD_VERSION: resolving dependencies"
  cat >"$dir/go.mod" <<EOM
module etcdbuild

go 1.25

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
EOM
  cat >"$dir/main.go" <<'EOM'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOM
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >&2) || die "go mod tidy failed for etcd"
  log "etcd v$ETCD_VERSION: compiling"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" . >&2) || die "building etcd failed"
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
}

start=$(date +%s)
[[ -x "$BIN_DIR/etcd" ]] || build_etcd
for b in "${WANT[@]}"; do
  [[ -x "$BIN_DIR/$b" ]] && continue
  case "$b" in
    kwok) build_kwok ;;
    kube-*) build_k8s "$b" ;;
  esac
done
"$BIN_DIR/kube-apiserver" --version >&2 || die "the built kube-apiserver does not run"
log "done in $(( $(date +%s) - start ))s: $BIN_DIR"
echo "$BIN_DIR"
