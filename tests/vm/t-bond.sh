#!/bin/bash
# A bond vmnet creates as an uplink (vmnet-plan(5) BONDS), against a peer
# running a Linux bond in 802.3ad mode (needs the bonding and 8021q modules:
# run it in the test VM, tests/vm/run-suite t-bond).
#
#   [host: vmnet]  m1 ==veth== p1  [sw]
#   bond0 (802.3ad) m2 ==veth== p2  swbond (802.3ad) -- swbond.100 10.60.0.2
#   bond0.100 -> brv <- gv -- [g] 10.60.0.10
#
# Checks, read from the kernel (ip -d -j) and at the receiver (the peer's
# ICMP echo counter): the bond, its members and the VLAN on it; LACP
# negotiated with the peer; re-apply a no-op; traffic over the VLAN; one
# member's cable pulled (its peer end down): traffic goes on, and doctor
# reports the member; destroy gives the members back as they were.
. "$top_srcdir/tests/netns/lib.sh"
modprobe bonding 2>/dev/null
modprobe 8021q 2>/dev/null

host=$(newns host)
sw=vmnet-t$$-sw; ip netns add "$sw"; track_ns "$sw"
g=vmnet-t$$-g; ip netns add "$g"; track_ns "$g"
ip -n "$host" link del vt-up0
ip -n "$sw" link set lo up; ip -n "$g" link set lo up
for i in 1 2; do
        ip -n "$host" link add m$i type veth peer name p$i netns "$sw"
        ip -n "$host" link set m$i up
done
ip -n "$sw" link add swbond type bond mode 802.3ad miimon 100 lacp_rate fast
for i in 1 2; do ip -n "$sw" link set p$i master swbond; done
ip -n "$sw" link set swbond up
ip -n "$sw" link add link swbond name swbond.100 type vlan id 100
ip -n "$sw" addr add 10.60.0.2/24 dev swbond.100
ip -n "$sw" link set swbond.100 up
snapshot "$host" "$T/before"

cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-bond">
  <bond name="bond0" mode="802.3ad" members="m1 m2" miimon="100" lacp-rate="fast"
        xmit-hash-policy="layer2+3"/>
  <network name="lan" mode="bridged" bridge="brv"><uplink dev="bond0" vlan="100"/></network>
</plan>
XML
check "apply: a bond of m1 and m2, a VLAN on it, a bridge" vm "$host" apply "$T/plan.xml" || cat "$T/err"
check "bond0 is an 802.3ad bond, miimon 100, lacp fast, layer2+3, owned by t-bond" \
        jtrue '.[0] | .linkinfo.info_kind == "bond" and .linkinfo.info_data.mode == "802.3ad" and
                .linkinfo.info_data.miimon == 100 and .linkinfo.info_data.ad_lacp_rate == "fast" and
                .linkinfo.info_data.xmit_hash_policy == "layer2+3" and .ifalias == "vmnet:t-bond"' \
        ip -n "$host" -d -j link show bond0
for i in 1 2; do
        check "m$i is a member of bond0, up" jtrue '.[0] | .master == "bond0" and .linkinfo.info_slave_kind == "bond" and (.flags | index("UP") != null)' \
                ip -n "$host" -d -j link show m$i
done
check "bond0.100 is VLAN 100 on bond0, a port of brv" \
        jtrue '.[0] | .linkinfo.info_kind == "vlan" and .linkinfo.info_data.id == 100 and .link == "bond0" and .master == "brv"' \
        ip -n "$host" -d -j link show bond0.100
partner() { # the bond's LACP partner is the peer's bond
        jtrue --arg mac "$(jread '.[0].address' ip -n "$sw" -j link show swbond | tr -d '"')" \
                '.[0].linkinfo.info_data.ad_info.partner_mac == $mac' ip -n "$host" -d -j link show bond0 2>/dev/null
}
for _ in $(seq 50); do partner && break; sleep 0.2; done
check "LACP: bond0's partner is the peer's swbond" partner
check "re-apply is a no-op" "$VMNET" -q --netns "$host" plan --detailed-exitcode "$T/plan.xml"

ip -n "$host" link add gv type veth peer name eth0 netns "$g"
ip -n "$host" link set gv master brv up
ip -n "$g" addr add 10.60.0.10/24 dev eth0
ip -n "$g" link set eth0 up
echoes() { ip netns exec "$sw" awk '$1 == "Icmp:" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) if ($i == "InEchos") f = i }
            $1 == "Icmp:" && $2 ~ /^[0-9]/ { print $f }' /proc/net/snmp; }
reach() { # DESCRIPTION: three echoes from g to the peer's VLAN 100, counted at the peer
        local before after rc=0
        before=$(echoes)
        ip netns exec "$g" busybox ping -c 3 -i 0.2 -W 2 10.60.0.2 >/dev/null 2>&1 || rc=$?
        after=$(echoes)
        check "$1 (peer received $((after - before)) echoes)" test "$rc" = 0 -a $((after - before)) -ge 3
}
# LACP has a partner before both ends collect and distribute on the aggregator:
# the path is ready once one echo is answered (bounded), then three are counted.
ready() { ip netns exec "$g" busybox ping -c 1 -W 1 10.60.0.2 >/dev/null 2>&1; }
for _ in $(seq 30); do ready && break; done
reach "the guest reaches VLAN 100 over the bond"
# a member's cable pulled: the peer's end goes down
ip -n "$sw" link set p1 down
for _ in $(seq 50); do
        jtrue '.[0].linkinfo.info_slave_data.mii_status == "DOWN"' ip -n "$host" -d -j link show m1 2>/dev/null && break
        sleep 0.1
done
reach "with m1 down, traffic goes on over m2"
"$VMNET" --netns "$host" --json doctor "$T/plan.xml" >"$T/doc.json" 2>/dev/null
check "doctor reports member m1 of bond0 down" \
        jtrue '[.findings[] | select(.check == "bond" and .object == "link m1" and .severity == "warning")] | length == 1' cat "$T/doc.json"
ip -n "$sw" link set p1 up

ip -n "$host" link del gv
check "destroy" vm "$host" destroy "$T/plan.xml" || cat "$T/err"
snapshot "$host" "$T/after" && same "destroy gives m1 and m2 back as they were (up, no master, MAC, MTU)" "$T/before" "$T/after"
finish
