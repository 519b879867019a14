#!/bin/bash
# 802.1Q end to end through the real vmnet binary (needs a kernel with 8021q
# and bridge VLAN filtering: run it in the test VM, tests/vm/run-suite).
#
#   [e100] sw0.100 10.50.0.2 --.                                          up0.100 -> br100 <- gv100 -- [g100] 10.50.0.10
#   [e200] sw0.200 10.50.0.3 ---[sw] sw0 ==trunk (veth)== up0 [host: vmnet] up0.200 -> br200 <- gv200 -- [g200] 10.50.0.20
#   [e300] sw0.300 10.50.0.4 --'                                          up0.300 -> br300
#
# Every VLAN carries the SAME subnet, each endpoint in a namespace of its own,
# so reachability proves which VLAN a frame travelled on: g100 must reach
# 10.50.0.2 (VLAN 100) and never 10.50.0.3 (VLAN 200).
#
# Then the same VLANs on one VLAN-aware bridge, trunkbr, made by vmnet,
# converged from an older vmnet's, and adopted: it fails closed (a new port,
# gvnew standing in for a guest's tap, is in no VLAN and receives none of the
# trunk's frames) while the trunk's untagged frames stay in VLAN 1 on up0 and
# on the bridge itself. Guests placed in their VLAN: t-vlan-guests.sh.
. "$top_srcdir/tests/netns/lib.sh"
modprobe 8021q 2>/dev/null

host=$(newns host)
sw=vmnet-t$$-sw; ip netns add "$sw"; track_ns "$sw"
ip -n "$host" link del vt-up0        # lib.sh's default uplink is not used here
ip -n "$host" link add up0 mtu 1500 type veth peer name sw0 netns "$sw"
ip -n "$host" link set up0 up
ip -n "$sw" link set lo up
ip -n "$sw" link set sw0 mtu 9000 up
addr=2
for v in 100 200 300; do
        e=vmnet-t$$-e$v; ip netns add "$e"; track_ns "$e"
        ip -n "$sw" link add link sw0 name sw0.$v type vlan id $v
        ip -n "$sw" link set sw0.$v netns "$e"
        ip -n "$e" addr add 10.50.0.$addr/24 dev sw0.$v
        ip -n "$e" link set sw0.$v up
        addr=$((addr + 1))
done
e100=vmnet-t$$-e100

guest() { # NAME BRIDGE ADDR: a namespace on a veth whose host end is enslaved by the test
        local g=vmnet-t$$-$1
        ip netns add "$g"; track_ns "$g"
        ip -n "$g" link set lo up
        ip -n "$host" link add gv$1 type veth peer name eth0 netns "$g"
        ip -n "$host" link set gv$1 master "$2" up
        ip -n "$g" addr add "$3/24" dev eth0
        ip -n "$g" link set eth0 up
        echo "$g"
}
pingable() { ip netns exec "$1" busybox ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

cat >"$T/vlan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-vlan">
  <network name="v100" mode="bridged" bridge="br100" mtu="9000"><uplink dev="up0" vlan="100"/></network>
  <network name="v200" mode="bridged" bridge="br200"><uplink dev="up0" vlan="200"/></network>
  <network name="v300" mode="bridged" bridge="br300"><uplink dev="up0" vlan="300"/></network>
</plan>
XML
snapshot "$host" "$T/before"
check "apply of three VLAN networks" vm "$host" apply "$T/vlan.xml"
for v in 100 200 300; do
        check "up0.$v is an 802.1Q link with id $v on up0, enslaved to br$v" jtrue --argjson v "$v" \
                '.[0].linkinfo.info_kind == "vlan" and .[0].linkinfo.info_data.id == $v and .[0].linkinfo.info_data.protocol == "802.1Q" and .[0].link == "up0" and .[0].master == "br\($v)"' \
                ip -n "$host" -d -j link show up0.$v
done
check "br100 has mtu 9000" jtrue '.[0].mtu == 9000' ip -n "$host" -j link show br100
check "up0.100 has mtu 9000" jtrue '.[0].mtu == 9000' ip -n "$host" -j link show up0.100
check "the trunk up0 was raised to mtu 9000" jtrue '.[0].mtu == 9000' ip -n "$host" -j link show up0

g100=$(guest 100 br100 10.50.0.10)
g200=$(guest 200 br200 10.50.0.20)
check "a guest on br100 reaches VLAN 100 across the trunk" pingable "$g100" 10.50.0.2
check "a guest on br200 reaches VLAN 200 across the trunk" pingable "$g200" 10.50.0.3
check "VLAN 100 does not reach VLAN 200" sh -c "! ip netns exec $g100 busybox ping -c 1 -W 1 10.50.0.3 >/dev/null 2>&1"
check "VLAN 200 does not reach VLAN 100" sh -c "! ip netns exec $g200 busybox ping -c 1 -W 1 10.50.0.2 >/dev/null 2>&1"
check "the two guests do not see each other" sh -c "! ip netns exec $g100 busybox ping -c 1 -W 1 10.50.0.20 >/dev/null 2>&1"
rx() { ip -n "$e100" -s -j link show "$1" | jq '.[0].stats64.rx.packets'; }
# sw0.100 only receives frames tagged 100 on the wire.
a100=$(rx sw0.100)
ip netns exec "$g100" busybox ping -c 3 -i 0.2 -W 1 10.50.0.2 >/dev/null 2>&1
b100=$(rx sw0.100)
check "frames from br100 cross the trunk tagged 100 ($a100 -> $b100 packets on sw0.100)" \
        test "$b100" -ge $((a100 + 3))

vm "$host" --json apply --detailed-exitcode "$T/vlan.xml"; rc=$?
check "re-apply of the VLAN plan changes nothing" test "$rc" = 0

# The picture of `vmnet status --format dot` (issue 18) draws the VLAN links
# and their NIC: it renders, and names up0, each up0.V with "VLAN V", each
# bridge and the guests' ports (Graphviz writes '-' as &#45;).
vm "$host" status --format dot "$T/vlan.xml"
check "status --format dot renders with dot -Tsvg" dot -Tsvg -o "$T/vlan.svg" "$T/out"
check "the picture names up0, up0.100/200/300 with their VLAN, br100/200/300, gv100, gv200" sh -c "
        for t in up0 up0.100 up0.200 up0.300 'VLAN 100' 'VLAN 200' 'VLAN 300' br100 br200 br300 gv100 gv200; do
                grep -q \">\$t</text>\" '$T/vlan.svg' || { echo \"missing: \$t\" >&2; exit 1; }
        done"

# a VLAN added and one removed converge
sed -e 's|<network name="v300".*|<network name="v400" mode="bridged" bridge="br400"><uplink dev="up0" vlan="400"/></network>|' "$T/vlan.xml" >"$T/vlan2.xml"
ip -n "$host" link set gv200 nomaster; ip -n "$host" link del gv200   # the guest leaves first
check "apply: VLAN 300 removed, VLAN 400 added" vm "$host" apply "$T/vlan2.xml"
check "up0.300 and br300 are gone" sh -c "! ip -n $host link show up0.300 2>/dev/null && ! ip -n $host link show br300 2>/dev/null"
check "up0.400 exists with id 400" jtrue '.[0].linkinfo.info_data.id == 400' ip -n "$host" -d -j link show up0.400

ip -n "$host" link del gv100
check "destroy" vm "$host" destroy "$T/vlan2.xml"
snapshot "$host" "$T/after"
same "destroy leaves the host namespace as before (trunk mtu restored)" "$T/before" "$T/after"

# --- the same networks on one VLAN-aware bridge ---------------------------------------
# migrate-addresses on one network: the host is present on the bridge (its
# address moves there), so vmnet leaves the bridge's ARP and IPv6 on (without
# it a bridged bridge has no host presence, vmnet-plan(5) REACHABILITY).
sed -e 's|bridge="br[0-9]*"|bridge="trunkbr" vlan-aware="yes"|' -e 's| mtu="9000"||' \
        -e '/name="v100"/s|<uplink dev="up0" vlan="100"/>|<uplink dev="up0" vlan="100" migrate-addresses="yes"/>|' \
        "$T/vlan.xml" >"$T/aware.xml"
check "the VLAN-aware plan migrates up0's addresses" grep -q 'migrate-addresses="yes"' "$T/aware.xml"
check "apply of the VLAN-aware variant" vm "$host" apply "$T/aware.xml"
check "one bridge with vlan_filtering" jtrue '.[0].linkinfo.info_data.vlan_filtering == 1' ip -n "$host" -d -j link show trunkbr
check "no subinterfaces in VLAN-aware mode" sh -c "! ip -n $host link show up0.100 2>/dev/null"
check "the trunk itself is the bridge port" jtrue '.[0].master == "trunkbr"' ip -n "$host" -j link show up0
for v in 100 200 300; do
        check "VLAN $v is tagged on the trunk port" jtrue --argjson v "$v" \
                '[.[0].vlans[] | select(.vlan == $v and ((.flags // []) | index("Egress Untagged") == null))] | length == 1' \
                ip netns exec "$host" bridge -j vlan show dev up0
done
# The bridge fails closed: a new port (a guest's tap, until vmnet puts it in
# its VLAN) is in no VLAN at all, while the trunk's untagged frames stay in
# VLAN 1, the native VLAN, on the trunk and on the bridge itself (the host).
vlans() { # FILTER ARGS...: FILTER on `bridge -j vlan show ARGS`, each entry's flags sorted
        local f=$1; shift
        jtrue "map(.vlans = [(.vlans // [])[] | {vlan, flags: ((.flags // []) | sort)}]) | $f" \
                ip netns exec "$host" bridge -j vlan show "$@"
}
aware_state() { # WHEN
        check "$1: trunkbr gives a new port no VLAN (vlan_default_pvid 0)" \
                jtrue '.[0].linkinfo.info_data.vlan_default_pvid == 0' ip -n "$host" -d -j link show trunkbr
        check "$1: the trunk up0 is in VLAN 1 PVID untagged and in 100, 200, 300 tagged, no other" \
                vlans '.[0].vlans == [{vlan: 1, flags: ["Egress Untagged", "PVID"]}, {vlan: 100, flags: []},
                                      {vlan: 200, flags: []}, {vlan: 300, flags: []}]' dev up0
        check "$1: the bridge itself is in VLAN 1 PVID untagged, no other" \
                vlans '.[0].vlans == [{vlan: 1, flags: ["Egress Untagged", "PVID"]}]' dev trunkbr
        # an address of the host's on the bridge (migrate-addresses puts it there)
        ip -n "$host" addr add 10.60.0.1/24 dev trunkbr
        ip -n "$sw" neigh flush dev sw0 # a bridge made again has another MAC
        check "$1: the host, on the bridge, reaches the trunk's untagged LAN" pingable "$sw" 10.60.0.1
        ip -n "$host" addr del 10.60.0.1/24 dev trunkbr
}
ip -n "$sw" addr add 10.60.0.2/24 dev sw0
aware_state "after apply"
# A stand-in for a guest's tap that libvirt plugs into the bridge.
gnew=$(guest new trunkbr 10.50.0.10)
check "a new port of trunkbr (gvnew) is in no VLAN" \
        vlans '([.[] | select(.ifname == "up0")] | length == 1) and ([.[] | select(.ifname == "gvnew") | .vlans[]] | length == 0)'
# The switch sends broadcasts untagged (sw0) and tagged 100 and 200 (its VLAN
# endpoints). The stand-in guest counts what it receives, but for IPv6: its
# veth's host end sends router solicitations and MLD reports of its own.
rxp() { ip -n "$1" -s -j link show "$2" | jq '.[0].stats64.rx.packets'; }
seen() {
        ip netns exec "$gnew" nft -j list chain netdev rx in |
                jq '[.nftables[].rule.expr[]?.counter.packets // empty] | add'
}
ip netns exec "$gnew" nft -f - <<'NFT'
table netdev rx {
        chain in { type filter hook ingress device eth0 priority 0; ether type != ip6 counter; }
}
NFT
g0=$(seen) u0=$(rxp "$host" up0)
ip netns exec "$sw" busybox arping -b -c 3 -I sw0 -s 10.60.0.2 10.60.0.99 >/dev/null 2>&1
for v in 100 200; do
        ip netns exec "vmnet-t$$-e$v" busybox arping -b -c 3 -I sw0.$v 10.50.0.99 >/dev/null 2>&1
done
g1=$(seen) u1=$(rxp "$host" up0)
check "the trunk received the 9 broadcasts ($u0 -> $u1 packets on up0)" test "$u1" -ge $((u0 + 9))
check "none reached the new port ($g0 -> $g1 frames received in its namespace, IPv6 aside)" \
        test "$g0" = 0 -a "$g1" = 0
vm "$host" --json apply --detailed-exitcode "$T/aware.xml"; rc=$?
check "re-apply of the VLAN-aware plan changes nothing" test "$rc" = 0

# A bridge made by an older vmnet has default PVID 1: every new port is in
# VLAN 1 with the trunk's untagged frames. Apply converges it.
ip -n "$host" link set trunkbr type bridge vlan_default_pvid 1
check "(before) with default PVID 1, the new port is in VLAN 1" \
        vlans '[.[] | select(.ifname == "gvnew") | .vlans[]] == [{vlan: 1, flags: ["Egress Untagged", "PVID"]}]'
vm "$host" --json apply --detailed-exitcode "$T/aware.xml"; rc=$?
check "apply converges a bridge with default PVID 1 (exit 2, changed)" test "$rc" = 2
aware_state "after converging"
check "after converging: the new port is in no VLAN" \
        vlans '([.[] | select(.ifname == "up0")] | length == 1) and ([.[] | select(.ifname == "gvnew") | .vlans[]] | length == 0)'
vm "$host" --json apply --detailed-exitcode "$T/aware.xml"; rc=$?
check "re-apply after converging changes nothing" test "$rc" = 0
ip -n "$host" link del gvnew
check "destroy of the VLAN-aware plan" vm "$host" destroy "$T/aware.xml"
snapshot "$host" "$T/after2"
same "destroy leaves the host namespace as before" "$T/before" "$T/after2"

# --- adopted: someone's plain bridge is made VLAN-aware, then given back ---------------
# (a fixed MAC: the kernel would otherwise give the bridge its ports' MAC)
ip -n "$host" link add trunkbr address 02:00:00:00:00:01 type bridge
ip -n "$host" link set trunkbr up
snapshot "$host" "$T/before3"
jread . ip netns exec "$host" bridge -j vlan show >"$T/bv-before3"
sed -e 's|vlan-aware="yes"|vlan-aware="yes" adopt="yes"|' "$T/aware.xml" >"$T/adopt.xml"
check "apply adopting the plain bridge trunkbr" vm "$host" apply "$T/adopt.xml"
aware_state "adopted"
vm "$host" --json apply --detailed-exitcode "$T/adopt.xml"; rc=$?
check "re-apply of the adopting plan changes nothing" test "$rc" = 0
check "destroy of the adopting plan" vm "$host" destroy "$T/adopt.xml"
check "trunkbr is given back with default PVID 1 and no VLAN filtering" \
        jtrue '.[0].linkinfo.info_data | .vlan_default_pvid == 1 and .vlan_filtering == 0' \
        ip -n "$host" -d -j link show trunkbr
snapshot "$host" "$T/after3"
same "destroy gives trunkbr back as it was found" "$T/before3" "$T/after3"
jread . ip netns exec "$host" bridge -j vlan show >"$T/bv-after3"
same "with the VLAN entries it had" "$T/bv-before3" "$T/bv-after3"
ip -n "$host" link del trunkbr
finish
