#!/bin/bash
# The fleet benchmark (bench/README): one host's part of a fleet plan with
# H hosts x S VXLAN segments (every segment on every host: S bridges, S
# VXLAN links, S x (H - 1) flood entries), natively in a throwaway network
# namespace, side by side in one run with the same links and entries made
# by `ip -batch` + `bridge -batch` (the practical floor):
#
#   apply_ms   vmnet apply from empty (best of REPEAT)
#   noop_ms    vmnet apply of the same plan again: no action
#   batch_ms   ip -batch (bridges, VXLAN links, ports) + bridge -batch (flood entries)
#
# It checks that both reach the same links (name, kind, VNI, master) and
# the same flood entries, and prints apply/batch. HOSTS and SEGMENTS
# override the sizes (default: 10 and 100 hosts, 100 segments).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
VMNET=${VMNET:-$here/../build/vmnet}
HOSTS=${HOSTS:-10 100}
SEGMENTS=${SEGMENTS:-100}
REPEAT=${REPEAT:-3}
T=$(mktemp -d)
export VMNET_STATE_DIR=$T/state VMNET_RUN_DIR=$T/run
NS=vmnet-fleet-$$
cleanup() {
        ip netns del "$NS" 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

underlay() { echo "10.203.$(($1 / 250)).$(($1 % 250 + 1))"; }

plan() { # H S: the fleet plan; this host is hv0
        local h s i
        h=$1 s=$2
        echo "<plan xmlns=\"urn:vmnet:plan:1\" name=\"fleet-$h\">"
        for i in $(seq 0 $((h - 1))); do
                echo "  <host name=\"hv$i\" underlay=\"$(underlay "$i")\"/>"
        done
        for i in $(seq "$s"); do
                echo "  <network name=\"s$i\" mode=\"isolated\" bridge=\"fb$i\" mtu=\"1450\"><vxlan vni=\"$i\" name=\"fx$i\"/></network>"
        done
        echo "</plan>"
}
batch() { # H S: the same links, as an ip -batch file
        local i alias=vmnet:fleet-$1
        for i in $(seq "$2"); do
                echo "link add fb$i type bridge"
                echo "link set fb$i mtu 1450 alias $alias up"
                echo "link add fx$i type vxlan id $i dstport 4789 local $(underlay 0)"
                echo "link set fx$i mtu 1450 alias $alias master fb$i up"
        done
}
fdb_batch() { # H S: the flood entries, as a bridge -batch file
        local i j
        for i in $(seq "$2"); do
                for j in $(seq 1 $(($1 - 1))); do
                        echo "fdb append 00:00:00:00:00:00 dev fx$i dst $(underlay "$j") self permanent"
                done
        done
}
fresh() {
        ip netns del "$NS" 2>/dev/null || true
        if [ -d "$VMNET_STATE_DIR" ]; then find "$VMNET_STATE_DIR" -type f -delete; fi
        ip netns add "$NS"
        ip -n "$NS" link set lo up
}
. "$here/timing.sh" # best, ratio
state() { # the links and flood entries, as the kernel reports them
        ip -n "$NS" -d -j link show | jq -r '.[] | select(.ifname != "lo") | [.ifname,
                .linkinfo.info_kind, (.linkinfo.info_data.id // "-"), (.master // "-"), .mtu,
                (.ifalias // "-")] | @tsv' | sort
        bridge -n "$NS" -j fdb show | jq -r '.[] | select(.mac == "00:00:00:00:00:00") | [.ifname, .dst] | @tsv' | sort
}

printf '%-34s %9s %9s %9s %12s %8s\n' "plan" "apply_ms" "noop_ms" "batch_ms" "apply/batch" "same"
for h in $HOSTS; do
        s=$SEGMENTS
        plan "$h" "$s" >"$T/plan.xml"
        batch "$h" "$s" >"$T/links"
        fdb_batch "$h" "$s" >"$T/fdb"
        apply=$(best fresh "\"$VMNET\" --host hv0 --netns $NS --quiet apply $T/plan.xml")
        noop=$(best : "\"$VMNET\" --host hv0 --netns $NS --quiet apply $T/plan.xml")
        state >"$T/vmnet-state"
        bt=$(best fresh "ip -n $NS -batch $T/links && bridge -n $NS -batch $T/fdb")
        state >"$T/batch-state"
        same=yes
        cmp -s "$T/vmnet-state" "$T/batch-state" || same=NO
        printf '%-34s %9s %9s %9s %12s %8s\n' "$h hosts x $s segments ($(wc -l <"$T/fdb") fdb)" \
                "$apply" "$noop" "$bt" "$(ratio "$apply" "$bt")" "$same"
        if [ "$same" != yes ]; then diff "$T/vmnet-state" "$T/batch-state" | head -5; fi
done
