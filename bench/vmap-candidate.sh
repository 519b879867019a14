#!/bin/sh
# A stand-in "vmnet" for bench/run-fwd.sh's BASE= (bench/README, session 8):
# applies with the real vmnet ($SHAPE_VMNET, default build/vmnet), then
# replaces the forward chain's out4 accept (a pipapo interval set of
# ifname . ipv4_addr) by a verdict-map dispatch: `iifname vmap @out_v4`,
# each bridge jumping to a chain of its own that accepts its subnets
# (`ip saddr SUBNET accept`). The candidate of session 7's proposal, made
# by hand to measure it before teaching the IR non-base chains and jumps.
# Called as: vmap-candidate.sh --netns NS --quiet apply PLAN
set -e
here=$(cd "$(dirname "$0")" && pwd)
"${SHAPE_VMNET:-$here/../build/vmnet}" "$@"
[ "$1" = --netns ] || { echo "vmap-candidate.sh: --netns NS first" >&2; exit 1; }
ns=$2
f=$(mktemp)
elems() { ip netns exec "$ns" nft -j list set inet vmnet out4 | jq -r '.nftables[1].set.elem[] | .concat | "\(.[0]) \(.[1].prefix.addr)/\(.[1].prefix.len)"'; }
{
        echo "table inet vmnet {"
        echo "	map out_v4 { type ifname : verdict; }"
        elems | while read -r br net; do echo "	chain o4_$br { ip saddr $net accept; }"; done
        echo "}"
        elems | awk '!seen[$1]++ { printf "add element inet vmnet out_v4 { \"%s\" : jump o4_%s }\n", $1, $1 }'
} >"$f"
ip netns exec "$ns" nft -f "$f"
rm -f "$f"
h=$(ip netns exec "$ns" nft -a list chain inet vmnet forward | awk '/@out4/ { print $NF }')
[ -n "$h" ] || { echo "vmap-candidate.sh: no out4 rule in the forward chain" >&2; exit 1; }
ip netns exec "$ns" nft replace rule inet vmnet forward handle "$h" \
        ct state new,untracked oifname != @bridges meta nfproto ipv4 iifname vmap @out_v4
