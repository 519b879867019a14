#!/bin/bash
# The engine's speed against the practical floor, side by side in one run.
# Needs 802.1Q (run it in the test VM: tests/vm/vm-run bench/run-bench.sh, or
# `make benchmark`); every measurement runs in its own throwaway network namespace.
#
# For N = 10, 100, 1000 bridged networks, each a VLAN subinterface of a trunk
# enslaved to its own bridge, it measures:
#   vmnet apply from empty, vmnet no-op re-apply, vmnet destroy,
#   the same end state with `ip -batch` (one process, the practical floor),
#   the same end state with a shell loop of `ip link` commands (what people script),
# and for a NAT network with 1000 port forwards: vmnet apply vs `nft -f` of the
# same ruleset. It prints the figures and the ratios the targets are about.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
VMNET=${VMNET:-$here/../build/vmnet}
SIZES=${SIZES:-10 100 1000}
REPEAT=${REPEAT:-3}
T=$(mktemp -d)
export VMNET_STATE_DIR=$T/state VMNET_RUN_DIR=$T/run
NS=vmnet-bench-$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
modprobe 8021q 2>/dev/null || true
modprobe dummy 2>/dev/null || true

fresh() { # a namespace with the trunk bt0 (a dummy link standing in for the NIC)
        ip netns del "$NS" 2>/dev/null || true
        ip netns add "$NS"
        ip -n "$NS" link set lo up
        ip -n "$NS" link add bt0 type dummy
        ip -n "$NS" link set bt0 up
}
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
# best of REPEAT runs of a setup + measured command, in ms
best() { # SETUP MEASURED
        local b= t0 t1 d
        for _ in $(seq "$REPEAT"); do
                eval "$1"
                t0=$(now); eval "$2" >/dev/null; t1=$(now)
                d=$(ms "$t0" "$t1")
                if [ -z "$b" ] || [ "$d" -lt "$b" ]; then b=$d; fi
        done
        echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.2f", a / b }'; }

unbatch() { # removing them again
        local n=$1 i
        for i in $(seq "$n"); do
                echo "link del bt0.$i"
                echo "link del bb$i"
        done
}

batch() { # the same links as the vlan plan, as an ip -batch file
        local n=$1 i
        for i in $(seq "$n"); do
                echo "link add bb$i type bridge"
                echo "link set bb$i alias vmnet:bench-vlan-$n up"
                echo "link add link bt0 name bt0.$i type vlan id $i"
                echo "link set bt0.$i alias vmnet:bench-vlan-$n master bb$i up"
        done
}

printf '%-26s %9s %9s %9s %9s %9s %10s %12s %11s %14s\n' "plan" "apply_ms" "noop_ms" "batch_ms" "loop_ms" "destroy_ms" "unbatch_ms" "apply/batch" "apply/loop" "destroy/unbatch"
prev=
for n in $SIZES; do
        sh "$here/gen-plan.sh" vlan "$n" >"$T/p$n.xml"
        batch "$n" >"$T/b$n"
        apply=$(best 'fresh' "\"$VMNET\" --netns $NS --quiet apply $T/p$n.xml")
        noop=$(best ':' "\"$VMNET\" --netns $NS --quiet apply $T/p$n.xml")
        links=$(ip -n "$NS" -j link show | jq 'length')
        # Deleting a link waits for an RCU grace period in the kernel, whoever
        # asks: destroy is measured once, against ip -batch deleting the same links.
        destroy=$(REPEAT=1 best "\"$VMNET\" --netns $NS --quiet apply $T/p$n.xml" "\"$VMNET\" --netns $NS --quiet destroy $T/p$n.xml")
        unbatch "$n" >"$T/u$n"
        unbt=$(REPEAT=1 best "fresh; ip -n $NS -batch $T/b$n" "ip -n $NS -batch $T/u$n")
        bt=$(best 'fresh' "ip -n $NS -batch $T/b$n")
        blinks=$(ip -n "$NS" -j link show | jq 'length')
        loop=$(REPEAT=1 best 'fresh' "while read -r l; do ip -n $NS \$l; done < $T/b$n")
        printf '%-26s %9s %9s %9s %9s %9s %10s %12s %11s %14s\n' "$n bridged VLAN networks" "$apply" "$noop" "$bt" "$loop" "$destroy" "$unbt" \
                "$(ratio "$apply" "$bt")" "$(ratio "$apply" "$loop")" "$(ratio "$destroy" "$unbt")"
        if [ "$links" != "$blinks" ]; then
                echo "error: vmnet made $links links, ip -batch $blinks: not the same end state" >&2
                exit 1
        fi
        [ -n "$prev" ] && echo "  growth x$((n / ${prev%:*})) objects: apply x$(ratio "$apply" "${prev#*:}")"
        prev=$n:$apply
done

n=1000
sh "$here/gen-plan.sh" nat "$n" >"$T/nat.xml"
"$VMNET" render --nft "$T/nat.xml" >"$T/nat.nft"
apply=$(best 'fresh' "\"$VMNET\" --netns $NS --quiet apply $T/nat.xml")
noop=$(best ':' "\"$VMNET\" --netns $NS --quiet apply $T/nat.xml")
nft=$(best 'fresh; ip -n $NS link add bn0 type bridge' "ip netns exec $NS nft -f $T/nat.nft")
printf '%-28s %10s %10s %10s %10s\n' "plan" "apply_ms" "noop_ms" "nft_f_ms" "apply/nft-f"
printf '%-28s %10s %10s %10s %10s\n' "NAT, $n port forwards" "$apply" "$noop" "$nft" "$(ratio "$apply" "$nft")"
