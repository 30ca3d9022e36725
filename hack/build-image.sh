#!/usr/bin/env bash
# Builds the manager's container image as an image tarball with
# go-containerregistry's crane: no Docker daemon, and no registry beyond one
# on the loopback interface for the length of the build. The image is the
# one the Dockerfile describes: a static binary /manager, run as the nonroot
# user 65532, with CA certificates. By default the base is made here (the
# build machine's CA bundle, /etc/passwd with nonroot, /home/nonroot, /tmp),
# so nothing is pulled; BASE names a base to pull instead, such as the
# digest-pinned distroless image the Dockerfile uses. Load the tarball where
# you keep images (`crane push dist/image.tar REPO:TAG`, `docker load`).
#
# Usage: hack/build-image.sh CRANE [IMG] [PLATFORM] [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
CRANE="$1" IMG="${2:-account-lifecycle-operator:dev}" PLATFORM="${3:-linux/amd64}" BASE="${4:-}"
WORK="$(mktemp -d)"
REG_PID=""
cleanup() { [[ -n "$REG_PID" ]] && kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

os="${PLATFORM%%/*}" arch="${PLATFORM#*/}"
arch="${arch%%/*}"
certs=/etc/ssl/certs/ca-certificates.crt
[[ -n "$BASE" || -f "$certs" ]] || { echo "no CA bundle at $certs (Debian: apt-get install ca-certificates), and no BASE" >&2; exit 1; }

# The same build as the Dockerfile's.
CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags="-s -w" -o "$WORK/manager" ./cmd

# One layer with exact owners and modes (tar from the shell would record the
# build user's). With a BASE, it carries the manager only.
python3 - "$WORK" "$certs" "${BASE:+manager-only}" <<'PY'
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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CRANE" registry serve --address "127.0.0.1:$port" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do "$CRANE" catalog "127.0.0.1:$port" --insecure >/dev/null 2>&1 && break; sleep 0.1; done
staged="127.0.0.1:$port/manager:build"
if [[ -n "$BASE" ]]; then
  "$CRANE" append -b "$BASE" --platform "$PLATFORM" -f "$WORK/layer.tar" -t "$staged" --insecure >/dev/null 2>"$WORK/crane.log" ||
    { cat "$WORK/crane.log" >&2; exit 1; }
else
  "$CRANE" append --oci-empty-base -f "$WORK/layer.tar" -t "$staged" --insecure >/dev/null 2>"$WORK/crane.log" ||
    { cat "$WORK/crane.log" >&2; exit 1; }
fi
mkdir -p dist
"$CRANE" mutate "$staged" --insecure --set-platform "$PLATFORM" --user 65532:65532 --workdir / \
  --entrypoint /manager --exposed-ports 8080/tcp,8081/tcp,8443/tcp \
  --label org.opencontainers.image.title=account-lifecycle-operator \
  -t "$IMG" -o dist/image.tar >/dev/null

# Check what was built from the tarball alone: the platform, the nonroot
# user, /manager as the entrypoint, and a manager that starts.
python3 - dist/image.tar "$WORK" "$PLATFORM" <<'PY'
import gzip, io, json, sys, tarfile
path, work, platform = sys.argv[1:4]
with tarfile.open(path) as t:
    manifest = json.load(t.extractfile("manifest.json"))[0]
    config = json.load(t.extractfile(manifest["Config"]))
    manager = None
    for layer in manifest["Layers"]:
        data = t.extractfile(layer).read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as l:
            for m in l.getmembers():
                if m.name.lstrip("./") == "manager":
                    manager = l.extractfile(m).read()
c = config["config"]
got = "%s/%s" % (config.get("os"), config.get("architecture"))
assert got == "/".join(platform.split(":")[0].split("/")[:2]), "image platform is %s, want %s" % (got, platform)
assert c.get("User") == "65532:65532", "image user is %r" % c.get("User")
assert c.get("Entrypoint") == ["/manager"], "image entrypoint is %r" % c.get("Entrypoint")
assert manager, "no /manager in the image's layers"
open(work + "/from-image", "wb").write(manager)
print("dist/image.tar: %s, user %s, entrypoint /manager (%d bytes)" % (got, c["User"], len(manager)))
PY
chmod +x "$WORK/from-image"
if [[ "$PLATFORM" == "$(go env GOOS)/$(go env GOARCH)" ]]; then
  # The binary taken out of the image runs here: it parses its flags and
  # prints its usage (a manager that cannot start fails before this).
  "$WORK/from-image" --help 2>&1 | grep -q -- "-metrics-bind-address" ||
    { echo "the manager in the image did not start" >&2; exit 1; }
  echo "the manager taken from the image starts (--help lists its flags)"
fi
