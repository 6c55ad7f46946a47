#!/usr/bin/env bash
# Lists published-port rules left behind by containers that no longer exist (a container
# killed while `podman run` was still setting it up never runs podman's cleanup). Such a
# rule sends every local connection to 127.0.0.1:PORT to a dead container address, so a
# test that happens to listen on PORT sees "connection refused" from its own listener.
# Prints one line per stale rule and exits 1 if there is any; removes nothing.
set -uo pipefail
command -v iptables >/dev/null && command -v podman >/dev/null || exit 0
stale=0
while read -r id ports; do
  [ -n "$id" ] || continue
  podman container exists "$id" 2>/dev/null && continue
  echo "stale published-port rule: 127.0.0.1 port(s) $ports go to container ${id:0:12}, which no longer exists"
  stale=1
done < <(iptables -w -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null |
  sed -n 's/.*id: \\"\([0-9a-f]*\)\\".*--dports \([0-9,]*\).*/\1 \2/p')
exit "$stale"
