#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the example need.
# Idempotent: packages already present are left alone and apt is not touched at all;
# /etc/containers/containers.conf is written only if there is none.
set -euo pipefail

packages=(
  build-essential cmake pkg-config curl
  libboost1.81-dev          # Beast + Asio (1.81, not Debian's default 1.74)
  libssl-dev                # TLS for the https listener
  nlohmann-json3-dev        # config, state and JSON error bodies
  libcli11-dev              # the ignite CLI's argument parsing (subcommands, --help)
  libsqlite3-dev            # the embedded state store (routing/sqlite_store): WAL, synchronous=FULL
  prometheus-cpp-dev        # /metrics
  libgtest-dev libgmock-dev # tests
  clang-14 libclang-rt-14-dev  # the libFuzzer targets (scripts/fuzz.sh; CI runs them)
  # Prebuilt images (BYOI): the example image and the tests that run real containers.
  podman                    # builds the greeter's image, pushes it, runs it as a pod
  runc                      # podman's OCI runtime here: crun, its default, fails on setrlimit in containers
  docker-registry           # a real private registry for the tests (distribution v2, tests/support/registry)
  apache2-utils             # htpasswd: the bcrypt password file of that registry's basic auth
  skopeo                    # reads a manifest and its digest from a registry without pulling the image
  iptables                  # the private container network's isolation rules (coldstart/podman_provider)
  etcd-server               # the cluster state store (cluster/etcd_store) and its tests: a real etcd
  etcd-client               # etcdctl: the tests enable auth on that etcd and change passwords
)
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
# newuidmap/newgidmap: podman run by a user other than root (rootless) maps its user ids.
[ "$(id -u)" -eq 0 ] || packages+=(uidmap)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# podman's engine settings, written only where there are none: an existing file is the
# machine owner's choice and is never touched.
conf=/etc/containers/containers.conf
if [ -e "$conf" ]; then
  echo "kept the existing $conf" >&2
else
  "${sudo_cmd[@]}" mkdir -p "$(dirname "$conf")"
  "${sudo_cmd[@]}" tee "$conf" >/dev/null <<'CONF'
# Written by ignite's scripts/install-deps.sh (it never overwrites this file).
[containers]
# Pass containers no ulimits of podman's choosing: raising RLIMIT_NOFILE fails where
# podman itself runs inside a container.
default_ulimits = []

[engine]
# cgroups managed directly, not through systemd (which may not be PID 1 here).
cgroup_manager = "cgroupfs"
# crun fails on setrlimit here; runc works.
runtime = "runc"
CONF
  echo "wrote $conf: default_ulimits = [], cgroup_manager = \"cgroupfs\", runtime = \"runc\"" >&2
fi
