#!/bin/sh
# A stand-in "vmnet" for bench/run-fwd.sh's BASE= (bench/README, session 8):
# applies with the real vmnet ($SHAPE_VMNET, default build/vmnet), then puts
# in front of each chain a guest's new datagram walks the one lookup that
# accepts it, unguarded: table bridge vmnet prerouting starts with
# `iifname . ether saddr . ip saddr @port_mac_ip4 accept`, and table inet
# vmnet's forward chain has `iifname . ip saddr @out4 accept` right after
# its established rule. Not a safe ruleset (a DHCP offer of a declared
# port, traffic to another vmnet bridge, invalid packets pass); a ceiling:
# what the least filtering that still checks a port's addresses and its
# network's subnet costs. Called as: ceiling-candidate.sh --netns NS --quiet apply PLAN
set -e
here=$(cd "$(dirname "$0")" && pwd)
"${SHAPE_VMNET:-$here/../build/vmnet}" "$@"
[ "$1" = --netns ] || { echo "ceiling-candidate.sh: --netns NS first" >&2; exit 1; }
ns=$2
if ip netns exec "$ns" nft list set bridge vmnet port_mac_ip4 >/dev/null 2>&1; then
        ip netns exec "$ns" nft insert rule bridge vmnet prerouting iifname . ether saddr . ip saddr @port_mac_ip4 accept
fi
h=$(ip netns exec "$ns" nft -a list chain inet vmnet forward | awk '/ct state established,related accept/ { print $NF; exit }')
[ -n "$h" ] || { echo "ceiling-candidate.sh: no established rule in the forward chain" >&2; exit 1; }
ip netns exec "$ns" nft add rule inet vmnet forward position "$h" iifname . ip saddr @out4 accept
