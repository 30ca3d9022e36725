#!/usr/bin/env bash
# Builds the manager's container image with go-containerregistry's crane: no
# Docker daemon, and no registry beyond one on the loopback interface for the
# length of the build. The image is the one the Dockerfile describes: a
# static binary /manager, run as the nonroot user 65532, with CA
# certificates. By default the base is made here (the build machine's CA
# bundle, /etc/passwd with nonroot, /home/nonroot, /tmp), so nothing is
# pulled; BASE names a base to pull instead, such as the digest-pinned
# distroless image the Dockerfile uses.
#
# One platform gives dist/image.tar, a tarball to load where you keep images
# (`crane push dist/image.tar REPO:TAG`, `docker load`). Several, separated by
# commas, give dist/image/, an OCI layout holding one index of them all
# (`crane push --index dist/image REPO:TAG`).
#
# Usage: hack/build-image.sh CRANE [IMG] [PLATFORMS] [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
CRANE="$1" IMG="${2:-account-lifecycle-operator:dev}" PLATFORMS="${3:-linux/amd64}" BASE="${4:-}"
WORK="$(mktemp -d)"
REG_PID=""
cleanup() { [[ -n "$REG_PID" ]] && kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

certs=/etc/ssl/certs/ca-certificates.crt
[[ -n "$BASE" || -f "$certs" ]] || { echo "no CA bundle at $certs (Debian: apt-get install ca-certificates), and no BASE" >&2; exit 1; }
crane() { "$CRANE" "$@" --insecure >/dev/null 2>"$WORK/crane.log" || { cat "$WORK/crane.log" >&2; exit 1; }; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CRANE" registry serve --address "127.0.0.1:$port" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do "$CRANE" catalog "127.0.0.1:$port" --insecure >/dev/null 2>&1 && break; sleep 0.1; done
reg="127.0.0.1:$port/manager"

# build PLATFORM pushes the image for one platform to $reg:OS-ARCH.
build() {
  local platform="$1" os arch dir
  os="${platform%%/*}" arch="${platform#*/}" arch="${arch%%/*}"
  dir="$WORK/$os-$arch"
  mkdir -p "$dir"
  # The same build as the Dockerfile's.
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags="-s -w" -o "$dir/manager" ./cmd
  # One layer with exact owners and modes (tar from the shell would record
  # the build user's). With a BASE, it carries the manager only.
  python3 - "$dir" "$certs" "${BASE:+manager-only}" <<'PY'
import io, sys, tarfile
work, certs, only = sys.argv[1], sys.argv[2], sys.argv[3]
def add(t, name, data=None, mode=0o644, uid=0, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, uid, 0
    if data is not None:
        info.size = len(data)
    t.addfile(info, io.BytesIO(data) if data is not None else None)
with tarfile.open(work + "/layer.tar", "w") as t:
    if not only:
        for d in ["etc", "etc/ssl", "etc/ssl/certs", "home"]:
            add(t, d, mode=0o755, kind=tarfile.DIRTYPE)
        add(t, "home/nonroot", mode=0o700, uid=65532, kind=tarfile.DIRTYPE)
        add(t, "tmp", mode=0o1777, kind=tarfile.DIRTYPE)
        add(t, "etc/ssl/certs/ca-certificates.crt", open(certs, "rb").read())
        add(t, "etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
        add(t, "etc/group", b"root:x:0:\nnonroot:x:65532:\n")
    add(t, "manager", open(work + "/manager", "rb").read(), mode=0o755)
PY
  if [[ -n "$BASE" ]]; then
    crane append -b "$BASE" --platform "$platform" -f "$dir/layer.tar" -t "$reg:build-$os-$arch"
  else
    crane append --oci-empty-base -f "$dir/layer.tar" -t "$reg:build-$os-$arch"
  fi
  crane mutate "$reg:build-$os-$arch" --set-platform "$platform" --user 65532:65532 --workdir / \
    --entrypoint /manager --exposed-ports 8080/tcp,8081/tcp,8443/tcp \
    --label org.opencontainers.image.title=account-lifecycle-operator -t "$reg:$os-$arch"
}

IFS=, read -ra platforms <<<"$PLATFORMS"
refs=()
for p in "${platforms[@]}"; do
  build "$p"
  os="${p%%/*}" arch="${p#*/}" arch="${arch%%/*}"
  refs+=("$reg:$os-$arch")
done
mkdir -p dist
rm -rf dist/image dist/image.tar
if (( ${#platforms[@]} == 1 )); then
  # Tagged IMG in the tarball, as docker load and crane push expect.
  crane mutate "${refs[0]}" -t "$IMG" -o dist/image.tar
  out=dist/image.tar
else
  crane index append $(printf -- '-m %s ' "${refs[@]}") -t "$reg:index"
  crane pull --format oci "$reg:index" dist/image
  # crane pull wraps the index in the layout's own; list the platform images
  # directly, so that crane push --index pushes one index of them.
  python3 - dist/image <<'PY'
import json, os, sys
layout = sys.argv[1]
outer = json.load(open(layout + "/index.json"))
digest = outer["manifests"][0]["digest"]
inner = json.load(open(os.path.join(layout, "blobs", *digest.split(":"))))
outer["manifests"] = inner["manifests"]
json.dump(outer, open(layout + "/index.json", "w"), indent=2)
os.remove(os.path.join(layout, "blobs", *digest.split(":")))
PY
  out=dist/image
fi

# Check what was built from the output alone: each image's platform, the
# nonroot user, /manager as the entrypoint; and that the manager for this
# machine's platform, taken out of its layers, starts.
python3 - "$out" "$WORK" "$(go env GOOS)/$(go env GOARCH)" "$PLATFORMS" <<'PY'
import gzip, io, json, os, sys, tarfile
out, work, host, want = sys.argv[1:5]
want = sorted("/".join(p.split(":")[0].split("/")[:2]) for p in want.split(","))
if os.path.isdir(out):  # an OCI layout with one index
    blob = lambda d: open(os.path.join(out, "blobs", *d.split(":")), "rb").read()
    index = json.load(open(out + "/index.json"))
    images = [json.loads(blob(m["digest"])) for m in index["manifests"]]
    images = [(json.loads(blob(m["config"]["digest"])), [blob(l["digest"]) for l in m["layers"]]) for m in images]
else:  # a docker-style tarball of one image
    with tarfile.open(out) as t:
        m = json.load(t.extractfile("manifest.json"))[0]
        images = [(json.load(t.extractfile(m["Config"])), [t.extractfile(l).read() for l in m["Layers"]])]
got = []
for config, layers in images:
    c, platform = config["config"], "%s/%s" % (config.get("os"), config.get("architecture"))
    got.append(platform)
    assert c.get("User") == "65532:65532", "%s: image user is %r" % (platform, c.get("User"))
    assert c.get("Entrypoint") == ["/manager"], "%s: image entrypoint is %r" % (platform, c.get("Entrypoint"))
    manager = None
    for data in layers:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as l:
            for f in l.getmembers():
                if f.name.lstrip("./") == "manager":
                    manager = l.extractfile(f).read()
    assert manager, "%s: no /manager in the image's layers" % platform
    if platform == host:
        open(work + "/from-image", "wb").write(manager)
    print("%s: %s, user %s, entrypoint /manager (%d bytes)" % (out, platform, c["User"], len(manager)))
assert sorted(got) == want, "images for %s, want %s" % (got, want)
PY
if [[ -f "$WORK/from-image" ]]; then
  chmod +x "$WORK/from-image"
  # It parses its flags and prints its usage: a manager that cannot start
  # (a binary for another platform, a dynamic one) fails before this.
  "$WORK/from-image" --help 2>&1 | grep -q -- "-metrics-bind-address" ||
    { echo "the manager in the image did not start" >&2; exit 1; }
  echo "the manager taken from the image starts (--help lists its flags)"
fi
if [[ "$out" == dist/image ]]; then
  echo "push it with: crane push --index dist/image $IMG"
fi
