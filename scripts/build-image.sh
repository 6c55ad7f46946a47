#!/usr/bin/env bash
# Builds the greeter's image (examples/greeter/Containerfile: FROM scratch, one static
# binary, about 7 MB) with podman, and optionally pushes it to a registry.
#
# usage: scripts/build-image.sh [--tag LOCAL_REF] [--push REGISTRY/REPO:TAG [--creds-file FILE]]
#
#   --tag LOCAL_REF     the local name to build (default localhost/ignite/greeter:latest)
#   --push REF          also push it as REF ("127.0.0.1:5000/acme-corp/greeter:1.0.0") and
#                       print the digest the registry stores, to pin: REF@sha256:…
#   --creds-file FILE   podman auth file with the registry's credentials (mode 0600):
#                         {"auths":{"127.0.0.1:5000":{"auth":"<base64 of user:password>"}}}
#                       `podman login --authfile FILE -u USER --password-stdin HOST` writes
#                       one. Without it podman uses what `podman login` stored.
#
# Environment: BUILD_DIR, the CMake build directory (default build/).
# A registry on a loopback address (127.0.0.1, localhost, [::1]) is spoken to over plain
# HTTP (--tls-verify=false); any other must have a certificate podman trusts.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,19s/^# \{0,1\}//p' "$0"; }
die() { echo "build-image.sh: $*" >&2; exit 2; }

tag=localhost/ignite/greeter:latest
push_ref=""
creds_file=""
while (($#)); do
  case "$1" in
    --tag) (($# >= 2)) || die "--tag needs a value"; tag=$2; shift 2 ;;
    --push) (($# >= 2)) || die "--push needs a value"; push_ref=$2; shift 2 ;;
    --creds-file) (($# >= 2)) || die "--creds-file needs a value"; creds_file=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ -z "$creds_file" ] || [ -n "$push_ref" ] || die "--creds-file only goes with --push"
command -v podman >/dev/null || die "podman is not installed (scripts/install-deps.sh)"

if [ -n "$creds_file" ]; then
  [ -f "$creds_file" ] || die "no such credentials file: $creds_file"
  # Credentials readable by others are a leak already; refuse rather than spread them.
  mode=$(stat -c '%a' "$creds_file")
  [ "$((8#$mode & 077))" -eq 0 ] || die "$creds_file has mode $mode; chmod 600 it"
fi

build_dir=${BUILD_DIR:-build}
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

t0=$(date +%s%N)
# The static link warns that getaddrinfo/dlopen need glibc's shared objects at run time;
# the greeter uses neither, so the log is shown only if the build fails.
if ! { cmake -S . -B "$build_dir" && cmake --build "$build_dir" -j"$(nproc)" --target greeter_static; } \
    >"$context/build.log" 2>&1; then
  cat "$context/build.log" >&2
  die "building greeter_static failed"
fi
binary="$build_dir/examples/greeter/greeter_static"
echo "compiled $binary ($(($(stat -c %s "$binary") / 1024)) KiB) in $(ms "$t0") ms"

# The context holds the binary alone: nothing else of the tree can end up in the image.
mkdir "$context/image"
cp "$binary" "$context/image/greeter"
previous=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
t0=$(date +%s%N)
# --layers=false: one layer, and no intermediate images left in the store.
# --timestamp: the binary's own time for the image and its files, so the same binary
# always makes the same image, and the same digest once pushed.
id=$(podman build --quiet --layers=false --timestamp "$(stat -c %Y "$binary")" -t "$tag" \
  -f examples/greeter/Containerfile "$context/image")
size=$(podman image inspect --format '{{.Size}}' "$id")
echo "built $tag ($((size / 1024)) KiB) in $(ms "$t0") ms"
# A rebuild moves the tag; the image it leaves nameless would only take up space.
if [ -n "$previous" ] && [ "$previous" != "$id" ] &&
   [ -z "$(podman image inspect --format '{{.RepoTags}}' "$previous" | tr -d '[]')" ]; then
  podman rmi "$previous" >/dev/null && echo "removed the previous $tag (${previous:0:12})"
fi

[ -n "$push_ref" ] || exit 0

registry=${push_ref%%/*}
[ "$registry" != "$push_ref" ] || die "--push needs REGISTRY/REPO:TAG, got $push_ref"
repo=$push_ref
case "${push_ref##*/}" in *:*) repo=${push_ref%:*} ;; esac
tls=()
case "$registry" in
  127.*|localhost|localhost:*|\[::1\]|\[::1\]:*) tls=(--tls-verify=false) ;;
esac
auth=()
[ -z "$creds_file" ] || auth=(--authfile "$creds_file")

t0=$(date +%s%N)
# Pushed under the registry's name directly: no extra tag is left in the local store.
podman push --quiet "${tls[@]}" "${auth[@]}" --digestfile "$context/digest" "$tag" "docker://$push_ref" ||
  die "podman push to $push_ref failed"
digest=$(cat "$context/digest")
echo "pushed $push_ref in $(ms "$t0") ms"
echo "digest $digest"
echo "pin    $repo@$digest"
