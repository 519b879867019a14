#!/bin/bash
# The engine's speed against the practical floor, side by side in one run;
# every measurement runs in its own throwaway network namespace.
#
#   KIND=vlan (default): N bridged networks, each a VLAN subinterface of a
#       trunk (a dummy link) enslaved to its own bridge. Needs 802.1Q and dummy
#       links: run it in the test VM (tests/vm/vm-run bench/run-bench.sh).
#   KIND=veth: N bridged networks, each enslaving an existing veth as its
#       uplink (the NIC). Runs on any kernel with bridges and veth, so it
#       measures natively what the VM can only emulate.
#
# For N = 10, 100, 1000 it measures vmnet apply from empty, vmnet no-op
# re-apply, vmnet destroy, the same end state with `ip -batch` (one process,
# the practical floor) and with a shell loop of `ip link` commands (what
# people script), checks that vmnet and `ip -batch` reach the same links
# (names, kinds, VLAN ids, masters, up, aliases), and prints the ratios the
# targets are about. Then a NAT network with 1000 port forwards: vmnet apply
# vs `nft -f` of the same ruleset. Last, the fixed cost of starting a process
# here (vmnet --version, ip -V, /bin/true), which small plans pay whole.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
VMNET=${VMNET:-$here/../build/vmnet}
KIND=${KIND:-vlan}
SIZES=${SIZES:-10 100 1000}
REPEAT=${REPEAT:-3}
T=$(mktemp -d)
export VMNET_STATE_DIR=$T/state VMNET_RUN_DIR=$T/run
NS=vmnet-bench-$$
NSP=$NS-peer
cleanup() {
        ip netns del "$NS" 2>/dev/null || true
        ip netns del "$NSP" 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT
case $KIND in
vlan)
        modprobe 8021q 2>/dev/null || true
        modprobe dummy 2>/dev/null || true
        what="bridged VLAN networks"
        ;;
veth) what="bridged veth-port nets" ;;
*) echo "run-bench.sh: KIND must be vlan or veth, not '$KIND'" >&2; exit 2 ;;
esac

uplinks() { # the NICs of the veth kind: bu$i here, its peer in another namespace
        local n=$1 i
        for i in $(seq "$n"); do
                echo "link add bu$i type veth peer name bp$i netns $NSP"
        done
}

fresh() { # an empty namespace with what the plan expects to find: the trunk or the NICs
        ip netns del "$NS" 2>/dev/null || true
        ip netns del "$NSP" 2>/dev/null || true
        # no record of an earlier run; its directories stay, as on any host where
        # vmnet has run once (creating them is a one-time cost)
        if [ -d "$VMNET_STATE_DIR" ]; then find "$VMNET_STATE_DIR" -type f -delete; fi
        ip netns add "$NS"
        ip -n "$NS" link set lo up
        case $KIND in
        vlan)
                ip -n "$NS" link add bt0 type dummy
                ip -n "$NS" link set bt0 up
                ;;
        veth)
                ip netns add "$NSP"
                if [ -s "$T/nics" ]; then ip -n "$NS" -batch "$T/nics"; fi
                ;;
        esac
}
. "$here/timing.sh" # best, ratio

# The links of the namespace, one line each, as the kernel reports them.
links_state() {
        ip -n "$NS" -d -j link show | jq -r '.[] | [.ifname, (.linkinfo.info_kind // "-"),
                (.linkinfo.info_data.id // "-"), (.master // "-"),
                ((.flags | index("UP")) != null), (.ifalias // "-")] | @tsv' | sort
}

unbatch() { # removing them again
        local n=$1 i
        for i in $(seq "$n"); do
                if [ "$KIND" = vlan ]; then echo "link del bt0.$i"; fi
                echo "link del bb$i"
        done
}

batch() { # the same links as the plan, as an ip -batch file
        local n=$1 i
        for i in $(seq "$n"); do
                echo "link add bb$i type bridge"
                echo "link set bb$i alias vmnet:bench-$KIND-$n up"
                case $KIND in
                vlan)
                        echo "link add link bt0 name bt0.$i type vlan id $i"
                        echo "link set bt0.$i alias vmnet:bench-$KIND-$n master bb$i up"
                        ;;
                veth) echo "link set bu$i master bb$i" ;;
                esac
        done
}

printf '%-26s %9s %9s %9s %9s %9s %10s %12s %11s %14s\n' "plan" "apply_ms" "noop_ms" "batch_ms" "loop_ms" "destroy_ms" "unbatch_ms" "apply/batch" "apply/loop" "destroy/unbatch"
prev=
for n in $SIZES; do
        sh "$here/gen-plan.sh" "$KIND" "$n" >"$T/p$n.xml"
        batch "$n" >"$T/b$n"
        if [ "$KIND" = veth ]; then uplinks "$n" >"$T/nics"; fi
        # small plans take a few ms: more runs for their best
        r=$REPEAT
        if [ "$n" -le 100 ]; then r=$((REPEAT * 3)); fi
        apply=$(REPEAT=$r best 'fresh' "\"$VMNET\" --netns $NS --quiet apply $T/p$n.xml")
        noop=$(REPEAT=$r best ':' "\"$VMNET\" --netns $NS --quiet apply $T/p$n.xml")
        links_state >"$T/vmnet-links"
        # Deleting a link waits for an RCU grace period in the kernel, whoever
        # asks: destroy is measured once, against ip -batch deleting the same links.
        destroy=$(REPEAT=1 best "\"$VMNET\" --netns $NS --quiet apply $T/p$n.xml" "\"$VMNET\" --netns $NS --quiet destroy $T/p$n.xml")
        unbatch "$n" >"$T/u$n"
        unbt=$(REPEAT=1 best "fresh; ip -n $NS -batch $T/b$n" "ip -n $NS -batch $T/u$n")
        bt=$(REPEAT=$r best 'fresh' "ip -n $NS -batch $T/b$n")
        links_state >"$T/batch-links"
        loop=$(REPEAT=1 best 'fresh' "while read -r l; do ip -n $NS \$l; done < $T/b$n")
        printf '%-26s %9s %9s %9s %9s %9s %10s %12s %11s %14s\n' "$n $what" "$apply" "$noop" "$bt" "$loop" "$destroy" "$unbt" \
                "$(ratio "$apply" "$bt")" "$(ratio "$apply" "$loop")" "$(ratio "$destroy" "$unbt")"
        if ! diff -u "$T/batch-links" "$T/vmnet-links" >&2; then
                echo "error: vmnet (+) and ip -batch (-) did not reach the same links" >&2
                exit 1
        fi
        [ -n "$prev" ] && echo "  growth x$((n / ${prev%:*})) objects: apply x$(ratio "$apply" "${prev#*:}")"
        prev=$n:$apply
done

: >"$T/nics"
n=1000
sh "$here/gen-plan.sh" nat "$n" >"$T/nat.xml"
"$VMNET" render --nft "$T/nat.xml" >"$T/nat.nft"
apply=$(best 'fresh' "\"$VMNET\" --netns $NS --quiet apply $T/nat.xml")
noop=$(best ':' "\"$VMNET\" --netns $NS --quiet apply $T/nat.xml")
nft=$(best 'fresh; ip -n $NS link add bn0 type bridge' "ip netns exec $NS nft -f $T/nat.nft")
printf '%-28s %10s %10s %10s %10s\n' "plan" "apply_ms" "noop_ms" "nft_f_ms" "apply/nft-f"
printf '%-28s %10s %10s %10s %10s\n' "NAT, $n port forwards" "$apply" "$noop" "$nft" "$(ratio "$apply" "$nft")"

# What every run pays before any work: starting a process here.
v=$(best ':' "\"$VMNET\" --version")
i=$(best ':' "ip -V")
t=$(best ':' "/bin/true")
echo "process start (best of $REPEAT): vmnet --version $v ms, ip -V $i ms, /bin/true $t ms"
