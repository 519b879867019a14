#!/bin/bash
# IP forwarding is one switch per namespace, shared by everyone who routes
# (vmnet(8) DESTROY): destroy turns off what vmnet turned on only when
# nothing else needs it by then, and otherwise leaves it on and says who
# needs it. Others are staged in each namespace after vmnet's apply: a bridge
# with an address (libvirt's virbr0, docker0), a static route into a veth.
. "$top_srcdir/tests/netns/lib.sh"

plan=$T/fwd.xml
cat >"$plan" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-fwd">
  <network name="lab" mode="nat" bridge="vf-lab">
    <subnet cidr="10.81.1.0/24" gateway="10.81.1.1"/>
  </network>
</plan>
XML

fwd() { ip netns exec "$1" sysctl -n net.ipv4.ip_forward; }

# fresh NAME: a namespace with forwarding off where vmnet applied the plan (forwarding on).
fresh() {
        local ns
        ns=$(newns "$1") || return 1
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
        vm "$ns" apply "$plan" || { cat "$T/err" >&2; return 1; }
        echo "$ns"
}

# --- nothing else routes: destroy puts back what it found -----------------------------
ns=$(fresh alone)
check "apply turned forwarding on" test "$(fwd "$ns")" = 1
check "destroy succeeds" vm "$ns" destroy "$plan"
check "alone: destroy turns forwarding off again" test "$(fwd "$ns")" = 0
check "alone: vmnet's bridge is gone" sh -c "! ip -n $ns link show vf-lab 2>/dev/null"

# --- a bridge of someone else's routes for its ports (virbr0, docker0) ------------------
ns=$(fresh bridge)
ip -n "$ns" link add docker0 type bridge
ip -n "$ns" addr add 172.17.0.1/16 dev docker0
ip -n "$ns" link set docker0 up
check "bridge: destroy succeeds" vm "$ns" destroy "$plan"
check "bridge: forwarding stays on under docker0" test "$(fwd "$ns")" = 1
check "bridge: destroy says why" grep -q 'net.ipv4.ip_forward stays 1.*bridge docker0' "$T/err"
check "bridge: vmnet's bridge is gone all the same" sh -c "! ip -n $ns link show vf-lab 2>/dev/null"
check "bridge: docker0 untouched" jtrue '.[0].addr_info[0].local == "172.17.0.1"' ip -n "$ns" -j addr show docker0
check "bridge: the record is gone (a later destroy has nothing to do)" \
        jtrue '.changed == false' "$VMNET" --netns "$ns" --json destroy "$plan"

# --- a network routed behind a veth of someone else's ----------------------------------
ns=$(fresh route)
ip -n "$ns" link add vf-ct0 type veth peer name vf-ct0p
ip -n "$ns" addr add 10.82.0.1/30 dev vf-ct0
ip -n "$ns" link set vf-ct0 up
ip -n "$ns" link set vf-ct0p up
ip -n "$ns" route add 10.83.0.0/16 via 10.82.0.2 dev vf-ct0
check "route: destroy succeeds" vm "$ns" destroy "$plan"
check "route: forwarding stays on for 10.83.0.0/16" test "$(fwd "$ns")" = 1
check "route: destroy names the route" grep -q 'route 10.83.0.0/16 through veth vf-ct0' "$T/err"

# --- the same need on apply: a plan that stops routing leaves it to the others too ------
ns=$(fresh shrink)
ip -n "$ns" link add lxcbr0 type bridge
ip -n "$ns" addr add 10.0.3.1/24 dev lxcbr0
ip -n "$ns" link set lxcbr0 up
cat >"$T/iso.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-fwd">
  <network name="lab" mode="isolated" bridge="vf-lab"/>
</plan>
XML
check "shrink: apply of a plan without routing succeeds" vm "$ns" apply "$T/iso.xml"
check "shrink: forwarding stays on under lxcbr0" test "$(fwd "$ns")" = 1
check "shrink: apply says why" grep -q 'net.ipv4.ip_forward stays 1.*bridge lxcbr0' "$T/err"
vm "$ns" --json apply --detailed-exitcode "$T/iso.xml"; rc=$?
check "shrink: then nothing to do (exit 0)" test "$rc" = 0
ip -n "$ns" link del lxcbr0
check "shrink: once lxcbr0 is gone, apply turns it off" vm "$ns" apply "$T/iso.xml"
check "shrink: forwarding off" test "$(fwd "$ns")" = 0

finish
