#!/bin/sh
# A stand-in "vmnet" for bench/run-fwd.sh's BASE= (bench/README): applies
# with the real vmnet ($SHAPE_VMNET, default build/vmnet), then empties
# table inet vmnet's forward chain and table bridge vmnet's prerouting
# chain, hooks kept: vmnet's table shape without the rules it evaluates per
# forwarded packet. BASE=bench/shape.sh measures what the hooks alone cost.
# Called as: shape.sh --netns NS --quiet apply PLAN
set -e
here=$(cd "$(dirname "$0")" && pwd)
"${SHAPE_VMNET:-$here/../build/vmnet}" "$@"
[ "$1" = --netns ] || { echo "shape.sh: --netns NS first" >&2; exit 1; }
ip netns exec "$2" nft flush chain inet vmnet forward
ip netns exec "$2" nft flush chain bridge vmnet prerouting 2>/dev/null || true
