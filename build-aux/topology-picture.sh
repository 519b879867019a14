#!/bin/sh
# make topology-picture: the README's picture of the host, examples/bridged.svg,
# drawn by dot from `vmnet status --format dot` after a real apply of
# examples/bridged.xml, in a throwaway network namespace where a veth stands
# in for eno1 (holding the host's address, which apply moves to br-lan) and
# one veth per planned guest interface stands in for its tap (named as
# vmnet names taps, so status knows the guest). Nothing outside the
# namespace changes; the namespace and vmnet's records of it are removed.
# Run as root: VMNET=build/vmnet sh build-aux/topology-picture.sh [PLAN [SVG]]
set -eu
vmnet=${VMNET:-build/vmnet}
plan=${1:-examples/bridged.xml}
out=${2:-examples/bridged.svg}
ns=vmnet-picture-$$
tmp=$(mktemp -d)
# a test build keeps its records under VMNET_*_DIR; another under netns-NS (vmnet(8) FILES)
export VMNET_STATE_DIR="$tmp/state" VMNET_RUN_DIR="$tmp/run"
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp" "/var/lib/vmnet/netns-$ns" "/run/vmnet/netns-$ns" "/run/vmnet/lock.netns-$ns"' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eno1 type veth peer name switch0
ip -n "$ns" link set eno1 up
ip -n "$ns" link set switch0 up
ip -n "$ns" addr add 192.168.10.5/24 dev eno1
"$vmnet" --netns "$ns" apply "$plan" >/dev/null
for dom in $(sed -n 's/.*<domain name="\([^"]*\)".*/\1/p' "$plan"); do
        "$vmnet" render --domain "$dom" "$plan" |
        sed -n "s/.*<source network='\([^']*\)'.*/\1/p; s/.*<target dev='\([^']*\)'.*/\1/p" |
        while read -r net && read -r tap; do
                bridge=$("$vmnet" render --libvirt --network "$net" "$plan" |
                        sed -n "s/.*<bridge name='\([^']*\)'.*/\1/p")
                ip -n "$ns" link add "$tap" type veth peer name "p${tap#vmn}"
                ip -n "$ns" link set "$tap" master "$bridge" up
        done
done
"$vmnet" --netns "$ns" status --format dot --no-libvirt "$plan" | dot -Tsvg -o "$out"
echo "wrote $out"
