#!/bin/sh
# The README's first command: install what is missing, build, and run vmnet's
# main job on an example plan: a real `vmnet apply` in a throwaway network
# namespace (nothing changes in the machine's own network), then `vmnet
# status`, a look at the kernel's state, and `vmnet destroy`.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
VMNET_NO_VM=1 sh "$src/build-aux/deps.sh"
sh "$src/build-aux/build.sh"
vmnet=${BUILDDIR:-$src/build}/vmnet
plan=$src/examples/quickstart.xml
ns=vmnet-quickstart-$$
# vmnet keeps the namespace's state and lock where it always does (vmnet(8),
# FILES), under netns-NAME: the demo removes them with its namespace.
trap 'ip netns del "$ns" 2>/dev/null
rm -rf "/var/lib/vmnet/netns-$ns" "/run/vmnet/netns-$ns" "/run/vmnet/lock.netns-$ns"' EXIT
ip netns add "$ns"

show() { printf '\n$ %s\n' "$*"; "$@"; }
show "$vmnet" validate "$plan"
show "$vmnet" --netns "$ns" plan "$plan"
show "$vmnet" --netns "$ns" apply "$plan"
show "$vmnet" --netns "$ns" apply --detailed-exitcode "$plan"
show "$vmnet" --netns "$ns" status "$plan"
show ip -n "$ns" -br addr
show ip netns exec "$ns" nft list table inet vmnet
show "$vmnet" --netns "$ns" destroy "$plan"
show ip -n "$ns" -br link
