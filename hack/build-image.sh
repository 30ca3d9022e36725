#!/usr/bin/env bash
# Builds the manager's container image as an OCI tarball, with no Docker
# daemon and no registry outside this machine: ko builds the image on a base
# made here (the build machine's CA certificates and a nonroot user, the
# same as distroless/static:nonroot offers), served for the build by a
# loopback registry (crane registry serve). Load the tarball where you
# build images (`crane push dist/image.tar REPO:TAG`, `docker load`).
#
# Usage: hack/build-image.sh KO CRANE [IMG] [PLATFORM]
set -euo pipefail
cd "$(dirname "$0")/.."
KO="$1" CRANE="$2" IMG="${3:-account-lifecycle-operator:dev}" PLATFORM="${4:-linux/amd64}"
WORK="$(mktemp -d)"
REG_PID=""
cleanup() { [[ -n "$REG_PID" ]] && kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

certs=/etc/ssl/certs/ca-certificates.crt
[[ -f "$certs" ]] || { echo "no CA bundle at $certs (Debian: apt-get install ca-certificates)" >&2; exit 1; }
mkdir -p "$WORK/rootfs/etc/ssl/certs" "$WORK/rootfs/home/nonroot" "$WORK/rootfs/tmp"
cp "$certs" "$WORK/rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$WORK/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$WORK/rootfs/etc/group"
tar --owner=0 --group=0 -C "$WORK/rootfs" -cf "$WORK/base.tar" .

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CRANE" registry serve --address "127.0.0.1:$port" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do "$CRANE" catalog "127.0.0.1:$port" --insecure >/dev/null 2>&1 && break; sleep 0.1; done
base="127.0.0.1:$port/base:nonroot"
"$CRANE" append -f "$WORK/base.tar" -t "$base" --insecure >/dev/null
"$CRANE" mutate "$base" --user 65532:65532 --set-platform "$PLATFORM" -t "$base" --insecure >/dev/null

mkdir -p dist
repo="${IMG%:*}" tag="${IMG##*:}"
KO_DEFAULTBASEIMAGE="$base" KO_DOCKER_REPO="$repo" "$KO" build ./cmd --bare --tags "$tag" \
  --push=false --tarball dist/image.tar --platform "$PLATFORM" --insecure-registry >&2

# Check what was built: a nonroot user and the manager as the entrypoint.
cfg="$(tar -xOf dist/image.tar manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Config"])')"
tar -xOf dist/image.tar "$cfg" | python3 -c '
import json, sys
c = json.load(sys.stdin)
user, ep = c["config"].get("User"), c["config"].get("Entrypoint")
assert user == "65532:65532", "image user is %r" % user
assert ep and ep[0].startswith("/ko-app/"), "image entrypoint is %r" % ep
print("dist/image.tar: %s/%s, user %s, entrypoint %s" % (c.get("os"), c.get("architecture"), user, ep[0]))
'
