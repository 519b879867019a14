#!/bin/bash
# The reachability matrix of vmnet-plan(5) (REACHABILITY) for the two VLAN
# layouts, "bridged on a VLAN subinterface" and "bridged, VLAN-aware", with
# real 802.1Q: cell by cell, IPv4 and IPv6, TCP and ICMP, counted at the
# receiver (issue 16). tests/netns/t-matrix.sh walks the other modes
# natively; this machine's kernel has no 802.1Q, the test VM's has.
#
#   [up] 203.0.113.2 2001:db8:ff::2 (the outside; routes 192.0.2.0/24 and 2001:db8:2::/64 to the host)
#     |  wan0 203.0.113.1 2001:db8:ff::1
#   [host: vmnet; a service on 0.0.0.0:2222 and [::]:2222]
#     vm-nat 10.99.1.1 fd99:1::1 (out=wan0, forwards 8080 -> gnat:80, 8086 -> [gnat]:80): gnat .10 ::10, gnat2 .11 ::11
#     vm-v100 (bridged on the subinterface trunk0.100): g100 192.0.2.10, g100b .11, gra100 (reads RAs)
#     vm-trunk (VLAN-aware, trunk0 its tagged port): VLAN 200 g200 .20, g200b .21, gra200; VLAN 300 g300 .30, gra300
#     trunk0 ==== sw0 [sw, the LAN switch] 192.0.2.5 untagged (the native VLAN)
#                   sw0.100 [l100] 192.0.2.2   sw0.200 [l200] 192.0.2.3   sw0.300 [l300] 192.0.2.4
#
# One trunk carries both layouts (VLAN 100 leaves it through a subinterface,
# 200 and 300 through the VLAN-aware bridge) and every VLAN carries the SAME
# subnet, 192.0.2.0/24 and 2001:db8:2::/64 (host N is .N and ::N), so a
# reply proves which VLAN a frame travelled on. Every VLAN guest uses the
# host's NAT gateway address as its gateway, through the MAC of its bridge
# (a permanent neighbour: the host answers no ARP or ND there), and knows
# the MACs of the other VLANs' hosts, as a hostile guest would. VLAN-aware
# guests' ports are put in their VLAN by vmnet's libvirt network hook, run
# as libvirt runs it when it creates a guest's port (cmd-hook.c).
#
# Allowed cells must pass (the listener logged the token, or the receiver's
# ICMP echo counter grew); denied cells must not arrive at all (token absent,
# counter unchanged, and for TCP the receiver's stack took in no segment:
# a SYN that got there counts even when no answer could get back). Cells
# inside one bridge run with and without br_netfilter's
# bridge-nf-call-ip(6)tables. Cells run in batches (tests/lib/standin.sh),
# their timeouts overlapping: TCG is slow.
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"
grep -qw 'vmnet.testbed=1' /proc/cmdline || { echo "SKIP: needs 802.1Q: run it in the test VM (tests/vm/run-suite)"; exit 77; }
modprobe 8021q 2>/dev/null
# br_netfilter, for the cells run with and without it; unloaded at the end if
# this test loaded it, so that the suite's next tests see the VM as it was.
brnf=0
if ! [ -d /proc/sys/net/bridge ] && modprobe br_netfilter 2>/dev/null; then
        trap 'cleanup; rmmod br_netfilter 2>/dev/null' EXIT
fi
[ -d /proc/sys/net/bridge ] && brnf=1

host_and_outside
ns_new sw
wire host trunk0 sw sw0
# The outside routes the VLANs' subnet (and the NAT network's) to the host,
# so that only the host decides.
ip -n "$P-up" route add 192.0.2.0/24 via 203.0.113.1
ip -n "$P-up" route add 10.99.1.0/24 via 203.0.113.1
ip -n "$P-up" -6 route add 2001:db8:2::/64 via 2001:db8:ff::1
ip -n "$P-up" -6 route add fd99:1::/64 via 2001:db8:ff::1
# The switch: the native VLAN on sw0 itself, each tagged VLAN's LAN host in a namespace.
ip -n "$P-sw" addr add 192.0.2.5/24 dev sw0
ip -n "$P-sw" addr add 2001:db8:2::5/64 dev sw0 nodad
addr=2
for v in 100 200 300; do
        ns_new l$v
        ip -n "$P-sw" link add link sw0 name sw0.$v type vlan id $v
        ip -n "$P-sw" link set sw0.$v netns "$P-l$v"
        ip -n "$P-l$v" addr add 192.0.2.$addr/24 dev sw0.$v
        ip -n "$P-l$v" addr add 2001:db8:2::$addr/64 dev sw0.$v nodad
        ip -n "$P-l$v" link set sw0.$v up
        addr=$((addr + 1))
done

v100mac=52:54:00:77:01:00 trunkmac=52:54:00:77:02:00
cat >"$T/plan.xml" <<XML
<plan xmlns="urn:vmnet:plan:1" name="t-matrix-vlan">
$(nat_network)
  <network name="v100" mode="bridged" bridge="vm-v100" mac="$v100mac" stp="no">
    <uplink dev="trunk0" vlan="100"/>
  </network>
  <network name="v200" mode="bridged" bridge="vm-trunk" vlan-aware="yes" mac="$trunkmac" stp="no">
    <uplink dev="trunk0" vlan="200"/>
  </network>
  <network name="v300" mode="bridged" bridge="vm-trunk" vlan-aware="yes" mac="$trunkmac" stp="no">
    <uplink dev="trunk0" vlan="300"/>
  </network>
</plan>
XML
apply_or_stop "the VLAN matrix plan"

# vmnet's libvirt network hook, as libvirt runs it when it creates a guest's
# port (before the tap exists): the network's XML as vmnet defines it in
# libvirt, and the port.
declare -A netof=([g200]=v200 [g200b]=v200 [gra200]=v200 [g300]=v300 [gra300]=v300)
hook() { # NAME BRIDGE MAC
        local net=${netof[$1]}
        {
                echo "<hookData>"
                "$VMNET" render --network "$net" "$T/plan.xml"
                cat <<XML
<networkport>
  <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>
  <owner><name>$1</name><uuid>$(cat /proc/sys/kernel/random/uuid)</uuid></owner>
  <mac address='$3'/>
  <plug type='bridge' bridge='$2' macTableManager='kernel'/>
</networkport>
</hookData>
XML
        } >"$T/hook-$1.xml"
        x host "$VMNET" hook network "$net" port-created begin - <"$T/hook-$1.xml" ||
                ko "vmnet hook network $net port-created begin for $1 exited $?"
}
in_only_vlan() { # PORT VID: in VLAN VID, untagged and PVID, and in no other
        jtrue --argjson v "$2" 'length == 1 and (.[0].vlans | length) == 1 and .[0].vlans[0].vlan == $v and (.[0].vlans[0].flags | sort) == ["Egress Untagged", "PVID"]' \
                ip netns exec "$P-host" bridge -j vlan show dev "$1"
}
placed() { # PORT VID: waits (20 s at most, whatever TCG's pace) for the hook's placer
        local end=$((SECONDS + 20))
        until in_only_vlan "$1" "$2" 2>/dev/null; do
                [ $SECONDS -lt $end ] || { in_only_vlan "$1" "$2"; return; }
                sleep 0.2
        done
}

v6gw=fd99:1::1
guest g100 vm-v100 192.0.2.10/24 10.99.1.1 2001:db8:2::10/64 $v6gw $v100mac
guest g100b vm-v100 192.0.2.11/24 10.99.1.1 2001:db8:2::11/64 $v6gw $v100mac
guest --mac 52:54:00:77:20:00 --plug hook g200 vm-trunk 192.0.2.20/24 10.99.1.1 2001:db8:2::20/64 $v6gw $trunkmac
guest --mac 52:54:00:77:20:01 --plug hook g200b vm-trunk 192.0.2.21/24 10.99.1.1 2001:db8:2::21/64 $v6gw $trunkmac
guest --mac 52:54:00:77:30:00 --plug hook g300 vm-trunk 192.0.2.30/24 10.99.1.1 2001:db8:2::30/64 $v6gw $trunkmac
guest gnat vm-nat 10.99.1.10/24 10.99.1.1 fd99:1::10/64 fd99:1::1
guest gnat2 vm-nat 10.99.1.11/24 10.99.1.1 fd99:1::11/64 fd99:1::1
# Spoofing VLAN guests: an address of the NAT network as their source.
ip -n "$P-g100" addr add 10.99.1.99/32 dev eth0
ip -n "$P-g200" addr add fd99:1::99/128 dev eth0 nodad

at() { echo "--- at ${SECONDS}s: $*"; } # where the time goes (TCG is slow)
listen host 0.0.0.0:2222 [::]:2222
all="g100 g100b g200 g200b g300 gnat gnat2 l100 l200 l300 sw up"
for g in $all; do listen "$g" 0.0.0.0:80 [::]:80; done

at "layouts"
# --- the layouts, read back from the kernel
check "trunk0.100 is an 802.1Q link with id 100 on trunk0, a port of vm-v100" \
        jtrue '.[0].linkinfo.info_kind == "vlan" and .[0].linkinfo.info_data.id == 100 and .[0].linkinfo.info_data.protocol == "802.1Q" and .[0].link == "trunk0" and .[0].master == "vm-v100"' \
        ip -n "$P-host" -d -j link show trunk0.100
check "vm-trunk filters VLANs, trunk0 is its port" \
        jtrue '.[0].linkinfo.info_data.vlan_filtering == 1 and .[0].linkinfo.info_data.vlan_default_pvid == 0' \
        ip -n "$P-host" -d -j link show vm-trunk
check "trunk0 is in VLANs 200 and 300 tagged (and the native VLAN 1), never 100" \
        jtrue '[.[0].vlans[] | {vlan, u: ((.flags // []) | index("Egress Untagged") != null)}] == [{vlan: 1, u: true}, {vlan: 200, u: false}, {vlan: 300, u: false}]' \
        ip netns exec "$P-host" bridge -j vlan show dev trunk0
for p in g200:200 g200b:200 g300:300; do
        check "the hook put v-${p%:*}'s port in VLAN ${p#*:} only, untagged and PVID" placed "v-${p%:*}" "${p#*:}"
done
at "host presence"
# --- the host has no presence on either bridge
for br in vm-v100 vm-trunk; do
        check "$br has no address at all (no fe80::)" \
                jtrue '[.[].addr_info[]] == []' ip -n "$P-host" -j addr show dev $br
        host_absent "$br"
done
for g in g100 g200; do
        check "the host answers no ARP for its gateway address on $g's network" \
                sh -c "! ip netns exec $P-$g busybox arping -c 1 -w 1 -I eth0 10.99.1.1 >/dev/null 2>&1"
done
listening host $all

at "layer 2"
# --- guest to guest, same network; guest to the LAN of its VLAN (layer 2)
l2() {
        local w=$1
        both allow "$w, subinterface" g100 g100b 192.0.2.11
        both allow "$w, subinterface" g100 g100b 2001:db8:2::11
        both allow "$w, subinterface, guest to its VLAN's LAN" g100 l100 192.0.2.2
        both allow "$w, subinterface, guest to its VLAN's LAN" g100 l100 2001:db8:2::2
        both allow "$w, subinterface, its VLAN's LAN to the guest" l100 g100 192.0.2.10
        both allow "$w, VLAN-aware" g200 g200b 192.0.2.21
        both allow "$w, VLAN-aware" g200 g200b 2001:db8:2::21
        both allow "$w, VLAN-aware, guest to its VLAN's LAN" g200 l200 192.0.2.3
        both allow "$w, VLAN-aware, guest to its VLAN's LAN" g300 l300 2001:db8:2::4
        both allow "$w, VLAN-aware, its VLAN's LAN to the guest" l300 g300 192.0.2.30
}
if [ $brnf = 1 ]; then
        for nf in 1 0; do
                x host sysctl -qw net.bridge.bridge-nf-call-iptables=$nf net.bridge.bridge-nf-call-ip6tables=$nf
                batch; l2 "same VLAN, bridge-nf-call=$nf"; run_batch
        done
        x host sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
else
        ko "br_netfilter cannot be loaded: the layer 2 cells run without it only"
        batch; l2 "same VLAN"; run_batch
fi

at "VLAN leakage"
# --- VLAN leakage: each VLAN guest, knowing the far side's MAC, never reaches
# another VLAN's guests or LAN hosts, nor the native VLAN
mac_of() { jread '.[0].address' ip -n "$P-$1" -j link show "$2" | tr -d '"'; }
declare -A ip4=([g100]=192.0.2.10 [g200]=192.0.2.20 [g300]=192.0.2.30 [l100]=192.0.2.2 [l200]=192.0.2.3 [l300]=192.0.2.4 [sw]=192.0.2.5)
declare -A dev=([g100]=eth0 [g200]=eth0 [g300]=eth0 [l100]=sw0.100 [l200]=sw0.200 [l300]=sw0.300 [sw]=sw0)
declare -A mac
for h in "${!dev[@]}"; do mac[$h]=$(mac_of "$h" "${dev[$h]}"); done
leak() { # FROM TO...
        local from=$1 to; shift
        for to in "$@"; do
                x "$from" ip neigh replace "${ip4[$to]}" lladdr "${mac[$to]}" dev eth0 nud permanent
                x "$from" ip -6 neigh replace "2001:db8:2::${ip4[$to]##*.}" lladdr "${mac[$to]}" dev eth0 nud permanent
                icmp deny "VLAN leak" "$from" "$to" "${ip4[$to]}"
                icmp deny "VLAN leak" "$from" "$to" "2001:db8:2::${ip4[$to]##*.}"
        done
        tcp deny "VLAN leak" "$from" "$1" "${ip4[$1]}" 80
        tcp deny "VLAN leak" "$from" "$1" "2001:db8:2::${ip4[$1]##*.}" 80
}
batch
leak g100 l200 g200 l300 g300 sw
leak g200 l100 g100 l300 g300 sw
leak g300 l200 g200 l100 sw
run_batch

at "other networks"
# --- guest to another vmnet network, through the host's MAC
batch
for g in g100 g200; do
        both deny "VLAN guest to the nat network through the host's MAC" $g gnat 10.99.1.10
        both deny "VLAN guest to the nat network through the host's MAC" $g gnat fd99:1::10
done
both deny "nat guest to a VLAN guest" gnat g100 192.0.2.10
both deny "nat guest to a VLAN guest" gnat g200 2001:db8:2::20

at "guest to host"
# --- guest to the host: every address, the service on 0.0.0.0 and [::]
nat_ll=$(jread '.[0].addr_info[] | select(.scope == "link") | .local' ip -n "$P-host" -j addr show dev vm-nat | tr -d '"')
wan_ll=$(jread '.[0].addr_info[] | select(.scope == "link") | .local' ip -n "$P-host" -j addr show dev wan0 | tr -d '"')
for g in g100:$v100mac g200:$trunkmac; do
        gm=${g#*:} g=${g%%:*}
        for a in 10.99.1.1 203.0.113.1 fd99:1::1 2001:db8:ff::1; do
                both deny "VLAN guest to the host" $g host $a 2222
        done
        # the host's link-local addresses, sent to its MAC on the guest's link
        for a in $nat_ll $wan_ll; do
                x $g ip -6 neigh replace "$a" lladdr "$gm" dev eth0 nud permanent
                tcp deny "VLAN guest to the host's link-local" $g host "$a%eth0" 2222
                icmp deny "VLAN guest to the host's link-local" $g host "$a" eth0
        done
done
run_batch
# all nodes of the link answer an echo to ff02::1 (the guest of the same VLAN
# and the LAN host do), the host does not
for g in g100 g200; do
        before=$(echoes host 6) rc=0
        x $g busybox ping -c 1 -W 1 -I eth0 ff02::1 >/dev/null 2>&1 || rc=$?
        after=$(echoes host 6)
        check "$g's echo to all nodes (ff02::1) is answered on its link, never reaches the host ($((after - before)))" \
                test "$rc" = 0 -a "$after" = "$before"
done

at "guest to outside"
# --- guest to the outside through the host; spoofed sources
tcp allow "nat guest to the outside (the host routes for its nat network)" gnat up 203.0.113.2 80
check "... masqueraded: the outside saw the host's address" grep -q "^c$n 203.0.113.1 " "$T/log-up"
batch
for g in g100 g200; do
        both deny "VLAN guest to the outside through the host's MAC" $g up 203.0.113.2
        both deny "VLAN guest to the outside through the host's MAC" $g up 2001:db8:ff::2
done
x up nft -f - <<'NFT'
table inet probe {
        chain pre {
                type filter hook prerouting priority -300; policy accept;
                ip saddr 10.99.1.99 counter
                ip6 saddr fd99:1::99 counter
        }
}
NFT
tcp deny "VLAN guest with the nat network's source 10.99.1.99" g100 up 203.0.113.2 80 10.99.1.99
icmp deny "VLAN guest with the nat network's source 10.99.1.99" g100 up 203.0.113.2 10.99.1.99
tcp deny "VLAN guest with the nat network's source fd99:1::99" g200 up 2001:db8:ff::2 80 fd99:1::99
icmp deny "VLAN guest with the nat network's source fd99:1::99" g200 up 2001:db8:ff::2 fd99:1::99
run_batch
check "... not one spoofed packet reached the outside" \
        jtrue '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets] == [0, 0]' \
        ip netns exec "$P-up" nft -j list table inet probe

at "to guests"
# --- the outside and the host to VLAN guests
batch
for g in g100 g200; do
        both deny "outside to a VLAN guest" up $g ${ip4[$g]}
        both deny "outside to a VLAN guest" up $g 2001:db8:2::${ip4[$g]##*.}
        both deny "host to a VLAN guest (not on the LAN)" host $g ${ip4[$g]}
        both deny "host to a VLAN guest (not on the LAN)" host $g 2001:db8:2::${ip4[$g]##*.}
done

at "port forwards"
# --- port forwards: not reachable from VLAN guests through the host
tcp allow "port forward from outside (works)" up gnat 203.0.113.1 8080
tcp allow "port forward, hairpin (works)" gnat2 gnat 203.0.113.1 8080
tcp deny "port forward from a VLAN guest through the host's MAC" g100 gnat 203.0.113.1 8080
tcp deny "port forward from a VLAN guest through the host's MAC" g200 gnat 2001:db8:ff::1 8086
run_batch

at "rogue RA/DHCP"
# --- a guest sending router advertisements and DHCP offers: its VLAN's
# guests take them (proof they were sent), the host and other VLANs never
ra_guest gra200 vm-trunk --mac 52:54:00:77:20:02 --plug hook
ra_guest gra300 vm-trunk --mac 52:54:00:77:30:02 --plug hook
ra_guest gra100 vm-v100
ra_guest granat vm-nat
rogue_mac=52:54:00:77:20:01 # g200b's
for g in gra300 gra100 granat; do
        x $g nft -f - <<NFT
table inet rogue {
        chain in {
                type filter hook prerouting priority -300; policy accept;
                ether saddr $rogue_mac counter
        }
}
NFT
done
check "gra200 is in VLAN 200" placed v-gra200 200
check "gra300 is in VLAN 300" placed v-gra300 300
routes_before=$(jread '[.[] | select(.dst == "default" or (.dst | startswith("2001:db8:2")))]' ip -n "$P-host" -6 -j route show)
x g200b dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=eth0 --bind-interfaces \
        --dhcp-leasefile="$T/rogue.leases" --enable-ra --dhcp-range=192.0.2.100,192.0.2.150 \
        --dhcp-range=2001:db8:2::,ra-only,64 --dhcp-option=3,192.0.2.21 \
        --pid-file="$T/rogue.pid" >/dev/null 2>&1 &
rogue=$!
for _ in $(seq 100); do [ -s "$T/rogue.pid" ] && break; sleep 0.05; done
ip -n "$P-gra200" link set eth0 down; ip -n "$P-gra200" link set eth0 up # a router solicitation
check "the rogue's RA reached a guest of its VLAN (200)" slaac gra200 2001:db8:2:
check "the rogue's DHCP offer reached a guest of its VLAN (200)" \
        sh -c "ip netns exec $P-gra200 busybox udhcpc -i eth0 -n -q -t 6 -T 1 -s /bin/true >/dev/null 2>&1"
# the other VLANs ask too: their requests must not reach the rogue, its offers not them
asked=()
for g in gra300 gra100 granat; do
        # a router solicitation, when the link comes up again, and DHCP discovers
        ip -n "$P-$g" link set eth0 down; ip -n "$P-$g" link set eth0 up
        x $g busybox udhcpc -i eth0 -n -q -t 2 -T 1 -s /bin/true >/dev/null 2>&1 &
        asked+=($!)
done
wait "${asked[@]}"
for g in gra300 gra100 granat; do
        check "not one frame of the rogue (RA, DHCP offer or other) reached $g" \
                jtrue '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets] == [0]' \
                ip netns exec "$P-$g" nft -j list table inet rogue
done
check "the rogue's leases: only VLAN 200's guest" \
        sh -c "! grep -v ' 52:54:00:77:20:02 ' '$T/rogue.leases' | grep -q ."
kill "$rogue" 2>/dev/null
for br in vm-v100 vm-trunk trunk0 trunk0.100; do
        check "the host took no address on $br" jtrue '[.[].addr_info[] | select(.scope == "global")] == []' \
                ip -n "$P-host" -j addr show dev $br
done
check "... and no IPv6 route (default or the rogue's prefix)" \
        test "$(jread '[.[] | select(.dst == "default" or (.dst | startswith("2001:db8:2")))]' ip -n "$P-host" -6 -j route show)" = "$routes_before"

at "policy"
# --- with <policy>: a VLAN network in an <allow> or <allow-host> is refused
for rule in '<allow from="v100" to="nat"/>' '<allow from="nat" to="v200" proto="tcp" port="80"/>' \
        '<allow-host from="v300" proto="tcp" port="2222"/>' '<allow from="v100" to="v200"/>'; do
        sed "s|</plan>|<policy>$rule</policy></plan>|" "$T/plan.xml" >"$T/policy.xml"
        "$VMNET" validate "$T/policy.xml" >/dev/null 2>"$T/policy.err"; rc=$?
        check "refused by validation: $rule ($(head -n 1 "$T/policy.err"))" \
                sh -c "test $rc = 1 && grep -q 'is bridged; the host' '$T/policy.err'"
done

vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "re-apply with guests attached changes nothing" test "$rc" = 0
check "destroy" vm "$P-host" destroy "$T/plan.xml"
at "end"
finish
