#!/bin/bash
# Anti-spoofing per guest port (issue 16 point 3, vmnet-plan(5) SECURITY),
# with real frames between stand-in guests on one NAT network:
#
#   host: vs-lan 10.77.1.1 fd77:1::1, vmnet's dnsmasq
#     port vmn525400770001  g1      10.77.1.10  the hostile guest (all four knobs deny)
#     port vmn525400770002  g2      10.77.1.11  a guest whose identity g1 steals
#     port vmn525400770003  g3      10.77.1.12  the victim: listens, reads RAs, keeps an ARP table
#     port vmn525400770004  grouter 10.77.1.13  port group "routers": ip-spoofing="allow"
#     port vmn525400770005  gfree   10.77.1.14  <security> allows all four on its interface
#     port vmn525400770006  gipam   (IPAM)      no ip=: vmnet allocates its address, binds it
#   vs-side (isolated, no subnet)
#     port vmn525400770007  gside   -           nothing to bind: `vmnet plan` says so
#
# Each port is a veth named as vmnet names a guest's tap ("vmn" + MAC). What
# is denied must not arrive: the victim's UDP listener never logs the token,
# its ARP table and addresses do not change; to know that the packet had
# its chance, the same sender then sends a marker that is allowed, and the
# check waits (bounded) for the marker at the receiver first. What is
# allowed (gfree, grouter's addresses) must arrive.
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"

ns_new host
cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-spoof">
  <network name="lan" mode="nat" bridge="vs-lan">
    <subnet cidr="10.77.1.0/24" gateway="10.77.1.1">
      <dhcp start="10.77.1.100" end="10.77.1.150"/>
    </subnet>
    <subnet cidr="fd77:1::/64" gateway="fd77:1::1"/>
    <portgroup name="plain" default="yes"/>
    <portgroup name="routers">
      <security ip-spoofing="allow"/>
    </portgroup>
  </network>
  <domain name="g1"><interface network="lan" mac="52:54:00:77:00:01" ip="10.77.1.10"/></domain>
  <domain name="g2"><interface network="lan" mac="52:54:00:77:00:02" ip="10.77.1.11"/></domain>
  <domain name="g3"><interface network="lan" mac="52:54:00:77:00:03" ip="10.77.1.12"/></domain>
  <domain name="grouter">
    <interface network="lan" portgroup="routers" mac="52:54:00:77:00:04" ip="10.77.1.13"/>
  </domain>
  <network name="side" mode="isolated" bridge="vs-side"/>
  <domain name="gipam"><interface network="lan" mac="52:54:00:77:00:06"/></domain>
  <domain name="gside"><interface network="side" mac="52:54:00:77:00:07"/></domain>
  <domain name="gfree">
    <interface network="lan" mac="52:54:00:77:00:05" ip="10.77.1.14">
      <security mac-spoofing="allow" ip-spoofing="allow" dhcp-server="allow"
                router-advertisement="allow"/>
    </interface>
  </domain>
</plan>
XML
# `vmnet plan` names the guest ports whose IPv4 sources cannot be checked, and why
vm "$P-host" --json plan "$T/plan.xml"
check "plan: gside's interface (isolated, nothing to bind) is named as unchecked, with the reason" \
        jtrue '[.warnings[] | select((.message | contains("interface 52:54:00:77:00:07 of domain gside"))
                and (.message | contains("not checked")) and (.message | contains("no IPv4 subnet"))
                and .line > 0)] | length == 1' cat "$T/out"
check "plan: no other port is named (gipam's address comes from IPAM)" \
        jtrue '[.warnings[] | select(.message | contains("not checked"))] | length == 1' cat "$T/out"
apply_or_stop "the anti-spoofing plan"

# gipam's address, as the kernel's bridge table binds it, and as dnsmasq leases it
ipam4=$(ip netns exec "$P-host" nft -j list set bridge vmnet port_ip4 |
        jq -r '.nftables[] | .set? | select(.) | .elem[] | .concat? | select(.[0] == "vmn525400770006") | .[1]')
check "gipam's port is bound to one IPv4 address, in the subnet and outside the DHCP range ($ipam4)" \
        sh -c "echo '$ipam4' | grep -qxE '10\.77\.1\.([2-9]|[1-9][0-9])'"
[ -n "$ipam4" ] || ipam4=10.77.1.254 # the checks below then fail, not the script

declare -A IDX=([g1]=1 [g2]=2 [g3]=3 [grouter]=4 [gfree]=5 [gipam]=6)
declare -A OWN4=([g1]=10.77.1.10 [g2]=10.77.1.11 [g3]=10.77.1.12 [grouter]=10.77.1.13
                 [gfree]=10.77.1.14 [gipam]=$ipam4)
mac_of() { echo "52:54:00:77:00:0$1"; }
port_of() { echo "vmn52540077000$1"; }
sguest() { # NAME N: a stand-in guest on port vmn52540077000N, MAC 52:54:00:77:00:0N, .9+N and ::9+N
        local g=$1 i=$2
        ns_new "$g"
        ip -n "$P-host" link add "$(port_of "$i")" type veth peer name eth0 netns "$P-$g"
        ip -n "$P-host" link set "$(port_of "$i")" master vs-lan up
        ip -n "$P-$g" link set eth0 address "$(mac_of "$i")" up
        ip -n "$P-$g" addr add "${OWN4[$g]}/24" dev eth0
        ip -n "$P-$g" addr add "fd77:1::$((9 + i))/64" dev eth0 nodad
        # addresses on lo are for spoofing only: never answer ARP for them on eth0
        x "$g" sysctl -qw net.ipv4.conf.all.arp_ignore=1
}
sguest g1 1; sguest g2 2; sguest g3 3; sguest grouter 4; sguest gfree 5; sguest gipam 6
# The senders know the victim without ARP or ND (whose own sender fields are
# checked too); a change of the sender's MAC flushes its neighbours, even these.
know_victim() {
        ip -n "$P-$1" neigh replace 10.77.1.12 lladdr "$(mac_of 3)" dev eth0 nud permanent
        ip -n "$P-$1" -6 neigh replace fd77:1::12 lladdr "$(mac_of 3)" dev eth0 nud permanent
}
for g in g1 grouter gfree gipam; do know_victim $g; done
# Addresses the hostile guests will claim: g2's, made-up ones, and outside fd77:1::/64.
for g in g1 grouter gfree gipam; do
        ip -n "$P-$g" addr add 10.77.1.11/32 dev lo
        ip -n "$P-$g" addr add 10.77.1.99/32 dev lo
        ip -n "$P-$g" addr add 2001:db8:99::1/128 dev lo nodad
done

check "the bridge table's guest ports are the plan's taps" \
        jtrue '[.nftables[] | .set? | select(.name == "guest_ports") | .elem[]] | sort ==
               ["vmn525400770001", "vmn525400770002", "vmn525400770003", "vmn525400770004",
                "vmn525400770005", "vmn525400770006", "vmn525400770007"]' \
        x host nft -j list table bridge vmnet
check "gfree's port is in none of the deny sets, grouter's not in ip4_deny" \
        jtrue '[.nftables[] | .set? | select(.name and (.name | endswith("_deny"))) |
                select(.elem | index("vmn525400770005")) ] == [] and
               ([.nftables[] | .set? | select(.name == "ip4_deny") | .elem[]] | index("vmn525400770004") == null)' \
        x host nft -j list table bridge vmnet

ulisten g3 0.0.0.0:9999 [::]:9999 0.0.0.0:68 [::]:546
# g3's listeners go with the test, not an hour later: every process in its namespace is the test's
trap 'kill $(ip netns pids "$P-g3" 2>/dev/null) 2>/dev/null; cleanup' EXIT
ready "$T/uready-g3" || { cat "$T/ulisten-g3.err"; finish; exit 1; }

arrived() { # TOKEN: waits (bounded) until the victim logged TOKEN
        for _ in $(seq 60); do
                grep -q "^$1 " "$T/ulog-g3" 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}
udp() { # allow|deny DESCRIPTION FROM DST PORT SRC [SPORT [IFACE]]: one datagram, then a marker
        local want=$1 desc=$2 from=$3 dst=$4 port=$5 src=$6 sport=${7:-} dev=${8:-} tok mark own
        n=$((n + 1)); tok=u$n; mark=m$n
        case $dst in
        *:*) own=fd77:1::$((9 + IDX[$from])) ;;
        *) own=${OWN4[$from]} ;;
        esac
        x "$from" "$PY" "$PROBE" udp "$dst" "$port" "$tok" "$src" "$sport" $dev >/dev/null
        # the marker: the same sender, its own address, a port nothing filters
        x "$from" "$PY" "$PROBE" udp "$dst" "$port" "$mark" "$own" "" $dev >/dev/null
        if ! arrived "$mark"; then
                ko "$desc: the marker from $from ($own) did not reach g3: the check proves nothing"
                return
        fi
        if [ "$want" = allow ]; then
                check "$desc: $from -> $dst:$port from $src${sport:+:$sport} arrives" arrived "$tok"
        else
                check "$desc: $from -> $dst:$port from $src${sport:+:$sport} never reaches g3" \
                        sh -c "! grep -q '^$tok ' '$T/ulog-g3'"
        fi
}

# --- baseline: every sender's own traffic passes
for g in g1 grouter gfree gipam; do
        udp allow "own addresses" $g 10.77.1.12 9999 "${OWN4[$g]}"
done
udp allow "own addresses" g1 fd77:1::12 9999 fd77:1::10

# --- MAC spoofing: another guest's MAC, a made-up one
spoof_mac() { # allow|deny DESCRIPTION FROM MAC
        local own
        own=$(mac_of "${IDX[$3]}")
        ip -n "$P-$3" link set eth0 address "$4"
        know_victim "$3"
        n=$((n + 1))
        x "$3" "$PY" "$PROBE" udp 10.77.1.12 9999 "u$n" >/dev/null
        ip -n "$P-$3" link set eth0 address "$own"
        know_victim "$3"
        x "$3" "$PY" "$PROBE" udp 10.77.1.12 9999 "m$n" >/dev/null
        if ! arrived "m$n"; then ko "$2: the marker from $3 did not reach g3"; return; fi
        if [ "$1" = allow ]; then
                check "$2: $3 sending as $4 arrives" arrived "u$n"
        else
                check "$2: $3 sending as $4 never reaches g3" sh -c "! grep -q '^u$n ' '$T/ulog-g3'"
        fi
}
spoof_mac deny "mac-spoofing deny: another guest's MAC" g1 "$(mac_of 2)"
spoof_mac deny "mac-spoofing deny: a made-up MAC" g1 02:00:00:77:00:99
spoof_mac deny "mac-spoofing deny, inherited by the routers port group" grouter 02:00:00:77:00:98
spoof_mac allow "mac-spoofing allow on the interface" gfree 02:00:00:77:00:97

# --- IP spoofing: another guest's address, a made-up one, outside the IPv6 subnet
udp deny "ip-spoofing deny: another guest's IPv4 address" g1 10.77.1.12 9999 10.77.1.11
udp deny "ip-spoofing deny: a made-up IPv4 address" g1 10.77.1.12 9999 10.77.1.99
udp deny "ip-spoofing deny: an IPv6 address outside the network's subnets" g1 fd77:1::12 9999 2001:db8:99::1
udp deny "ip-spoofing deny, IPAM's address bound: another guest's IPv4 address" gipam 10.77.1.12 9999 10.77.1.11
udp deny "ip-spoofing deny, IPAM's address bound: a made-up IPv4 address" gipam 10.77.1.12 9999 10.77.1.99
udp allow "ip-spoofing allow from the port group" grouter 10.77.1.12 9999 10.77.1.99
udp allow "ip-spoofing allow from the port group" grouter fd77:1::12 9999 2001:db8:99::1
udp allow "ip-spoofing allow on the interface" gfree 10.77.1.12 9999 10.77.1.11

# --- a DHCP client has no address yet: the deny guest still gets its lease
lease() { x "$1" busybox udhcpc -i eth0 -n -q -t 8 -T 1 -s /bin/true >/dev/null 2>&1; }
check "g2 (ip-spoofing deny) gets a DHCP lease from the host's dnsmasq" lease g2
check "gipam's DHCP lease from the host's dnsmasq is the address its port is bound to ($ipam4)" \
        sh -c "ip netns exec $P-gipam busybox udhcpc -i eth0 -n -q -t 8 -T 1 -s /bin/true 2>&1 |
               grep -q 'lease of $ipam4 obtained'"

# --- ARP: claiming the gateway's or another guest's address
neigh_mac() { # NS DEV ADDR: the MAC the namespace's ARP table has for ADDR, "none" without one
        local m
        m=$(ip -n "$1" -j neigh show "$3" dev "$2" 2>/dev/null | jq -r '.[0].lladdr // empty' 2>/dev/null)
        echo "${m:-none}"
}
neigh_known() { # NS DEV ADDR MAC: waits (bounded) until ADDR is at MAC in the namespace's table
        for _ in $(seq 60); do
                [ "$(neigh_mac "$1" "$2" "$3")" = "$4" ] && return 0
                sleep 0.05
        done
        return 1
}
ip -n "$P-g3" neigh flush dev eth0
x g1 "$PY" "$PROBE" arp eth0 "$(mac_of 1)" 10.77.1.1 10.77.1.12 >/dev/null
x g1 "$PY" "$PROBE" arp eth0 "$(mac_of 1)" 10.77.1.10 10.77.1.12 >/dev/null
if neigh_known "$P-g3" eth0 10.77.1.10 "$(mac_of 1)"; then
        check "arp deny: g1 claiming the gateway 10.77.1.1 did not poison g3 ($(neigh_mac "$P-g3" eth0 10.77.1.1))" \
                test "$(neigh_mac "$P-g3" eth0 10.77.1.1)" != "$(mac_of 1)"
else
        ko "arp: g1's own ARP request did not reach g3: the check proves nothing"
fi
x g1 "$PY" "$PROBE" arp eth0 "$(mac_of 1)" 10.77.1.11 10.77.1.1 >/dev/null
x g1 "$PY" "$PROBE" arp eth0 "$(mac_of 1)" 10.77.1.10 10.77.1.1 >/dev/null
if neigh_known "$P-host" vs-lan 10.77.1.10 "$(mac_of 1)"; then
        check "arp deny: g1 claiming g2's 10.77.1.11 did not poison the host ($(neigh_mac "$P-host" vs-lan 10.77.1.11))" \
                test "$(neigh_mac "$P-host" vs-lan 10.77.1.11)" != "$(mac_of 1)"
else
        ko "arp: g1's own ARP request did not reach the host: the check proves nothing"
fi
x gfree "$PY" "$PROBE" arp eth0 "$(mac_of 5)" 10.77.1.1 10.77.1.12 >/dev/null
check "arp allow: gfree claiming the gateway is believed by g3" \
        neigh_known "$P-g3" eth0 10.77.1.1 "$(mac_of 5)"

# --- ARP whose sender MAC is not the frame's source (the frame's own MAC is g1's):
# g3 learns 10.77.1.10 from it only if it arrives; the marker, a datagram from
# g1 after it, says it had its chance
arp_sha() { # allow|deny DESCRIPTION FROM SENDER-MAC
        local from=$3 own
        own=${OWN4[$from]}
        n=$((n + 1))
        ip -n "$P-g3" neigh flush dev eth0
        x "$from" "$PY" "$PROBE" arp eth0 "$4" "$own" 10.77.1.12 "$(mac_of "${IDX[$from]}")" >/dev/null
        x "$from" "$PY" "$PROBE" udp 10.77.1.12 9999 "m$n" "$own" >/dev/null
        if ! arrived "m$n"; then ko "$2: the marker from $from did not reach g3"; return; fi
        if [ "$1" = allow ]; then
                check "$2: g3 believes $own is at $4" neigh_known "$P-g3" eth0 "$own" "$4"
        else
                check "$2: g3 never believes $own is at $4 ($(neigh_mac "$P-g3" eth0 "$own"))" \
                        test "$(neigh_mac "$P-g3" eth0 "$own")" != "$4"
        fi
}
arp_sha deny "arp deny: g1's ARP with g2's MAC as sender, from g1's own MAC" g1 "$(mac_of 2)"
arp_sha allow "arp allow (mac-spoofing allow): gfree's ARP with a made-up sender MAC" gfree 02:00:00:77:00:96

# --- 802.1Q-tagged frames would pass every check keyed on the ether type: g1
# and gfree send one to g3 (raw frames, their own MACs), then an untagged one as
# the marker; g3 logs every frame carrying a token (tagged or not: its kernel
# needs no VLAN support for that)
x g3 timeout 3600 "$PY" "$PROBE" fserve "$T/flog-g3" "$T/fready-g3" eth0 >/dev/null 2>"$T/fserve.err" &
ready "$T/fready-g3" || cat "$T/fserve.err"
farrived() { # TOKEN: waits (bounded) until g3's frame listener logged TOKEN
        for _ in $(seq 60); do
                grep -q "^$1 " "$T/flog-g3" 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}
tagged() { # allow|deny DESCRIPTION FROM
        local from=$3 mac
        mac=$(mac_of "${IDX[$from]}")
        n=$((n + 1))
        x "$from" "$PY" "$PROBE" frame eth0 "$mac" "$(mac_of 3)" "t$n" 5 >/dev/null
        x "$from" "$PY" "$PROBE" frame eth0 "$mac" "$(mac_of 3)" "m$n" >/dev/null
        if ! farrived "m$n"; then ko "$2: the untagged marker from $from did not reach g3"; return; fi
        if [ "$1" = allow ]; then
                check "$2: $from's frame tagged VLAN 5 arrives" farrived "t$n"
        else
                check "$2: $from's frame tagged VLAN 5 never reaches g3" sh -c "! grep -q '^t$n ' '$T/flog-g3'"
        fi
}
tagged deny "vlan-tagged deny (a checked port)" g1
tagged allow "vlan-tagged allow (gfree: no check applies)" gfree

# --- DHCP servers: a rogue offer (udp 67 -> 68, broadcast) and a DHCPv6 reply (547 -> 546)
udp deny "dhcp-server deny: an offer" g1 255.255.255.255 68 10.77.1.10 67 eth0
udp deny "dhcp-server deny: a DHCPv6 reply" g1 fd77:1::12 546 fd77:1::10 547
udp allow "dhcp-server allow on the interface: an offer" gfree 255.255.255.255 68 10.77.1.14 67 eth0
udp allow "dhcp-server allow on the interface: a DHCPv6 reply" gfree fd77:1::12 546 fd77:1::14 547

# --- router advertisements: g3 configures itself from what reaches it
x g3 sysctl -qw net.ipv6.conf.eth0.accept_ra=2
x g1 "$PY" "$PROBE" ra eth0 2001:db8:bad:: >/dev/null
x gfree "$PY" "$PROBE" ra eth0 2001:db8:900d:: >/dev/null
check "router-advertisement allow on the interface: g3 took gfree's prefix" slaac g3 2001:db8:900d:
check "router-advertisement deny: g3 has no address from g1's prefix" \
        jtrue '[.[].addr_info[] | select(.local | startswith("2001:db8:bad:"))] == []' \
        ip -n "$P-g3" -j addr show dev eth0
check "router-advertisement deny: g1 is not g3's router" \
        sh -c "! ip -n $P-g3 -6 route show default | grep -q 'fe80::5054:ff:fe77:1 '"

# --- the drops are counted where doctor and tests can read them
for what in mac-spoofing ip-spoofing ipv6-spoofing arp-ip arp-mac vlan-tagged dhcp-server dhcpv6-server \
        router-advertisement; do
        check "the bridge table counted drops of $what" \
                jtrue --arg c "vmnet antispoof $what" \
                '[.nftables[] | .rule? | select(.comment == $c) | .expr[] | .counter? | select(.) | .packets] | add > 0' \
                x host nft -j list table bridge vmnet
done

# --- doctor: a running guest's NIC plugged under another tap name is not covered
# (libvirt's test driver holds the domains; oldtap7 stands in for g2's old tap: the
# test driver, like libvirt, would rename a vnetN target)
{
        echo '<node>'
        "$VMNET" render --libvirt --network lan "$T/plan.xml"
        echo "<domain type='test'><name>g2</name><memory>65536</memory><os><type>hvm</type></os>"
        echo "<devices><interface type='network'><mac address='$(mac_of 2)'/><source network='lan'/>"
        echo "<target dev='oldtap7'/></interface></devices></domain>"
        echo "<domain type='test'><name>g3</name><memory>65536</memory><os><type>hvm</type></os>"
        echo "<devices><interface type='network'><mac address='$(mac_of 3)'/><source network='lan'/>"
        echo "<target dev='$(port_of 3)'/></interface></devices></domain>"
        echo '</node>'
} >"$T/node.xml"
ip -n "$P-host" link add oldtap7 type veth peer name oldtap7p
ip -n "$P-host" link set oldtap7 master vs-lan up
"$VMNET" --netns "$P-host" --json doctor --connect "test://$T/node.xml" "$T/plan.xml" >"$T/doctor.json" 2>"$T/doctor.err"
check "doctor: g2's port oldtap7 is not covered by anti-spoofing, with the fix" \
        jtrue '[.findings[] | select(.check == "antispoof" and .object == "link oldtap7" and
                (.message | contains("domain g2")) and (.fix | contains("virsh start g2")))] | length == 1' \
        cat "$T/doctor.json"
check "doctor: g3's port (named by vmnet) is covered" \
        jtrue '[.findings[] | select(.check == "antispoof" and (.message | contains("domain g3")))] == []' \
        cat "$T/doctor.json"
check "doctor: gside's interface is named as unchecked, with the reason; gipam's is not" \
        jtrue '[.findings[] | select(.check == "antispoof" and (.message | contains("not checked")))] as $u |
               ($u | length == 1) and ($u[0].object == "interface 52:54:00:77:00:07 of domain gside") and
               ($u[0].message | contains("no IPv4 subnet"))' \
        cat "$T/doctor.json"
# apply, doctor and render --nft compute the addresses once, the same way: one table
check "doctor: the tables are what the plan renders (IPAM's address bound in both)" \
        jtrue '(.checks | map(select(.name == "nft-table" and .status == "ok")) | length == 1) and
               ([.findings[] | select(.check == "nft-table")] == [])' \
        cat "$T/doctor.json"
"$VMNET" --netns "$P-host" render --nft "$T/plan.xml" >"$T/render.nft" 2>"$T/render.err"
check "render --nft binds gipam's port to the address the kernel's table has ($ipam4)" \
        grep -qF "\"vmn525400770006\" . $ipam4" "$T/render.nft"
# render needs no privilege: a user who cannot read the record gets a first apply's addresses
chmod 700 "$VMNET_STATE_DIR"; chmod 711 "$T"; chmod 644 "$T/plan.xml"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$VMNET" render --nft "$T/plan.xml" \
        >"$T/render-nobody.nft" 2>"$T/render-nobody.err"; rc=$?
check "render --nft by a user who cannot read the record succeeds (rc $rc: $(head -c 300 "$T/render-nobody.err"))" test "$rc" = 0
check "  and says its addresses are a first apply's" grep -q 'as a first apply would allocate' "$T/render-nobody.err"
check "  and still binds every guest port" grep -q '"vmn525400770006" \. ' "$T/render-nobody.nft"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$VMNET" --json render --nft "$T/plan.xml" \
        >"$T/render-nobody.json" 2>/dev/null
check "  with --json, the warning is an object (file, line, message, text) as everywhere" \
        jtrue '.warnings | length == 1 and (.[0] | (.file | type) == "string" and (.line | type) == "number"
                and (.message | test("first apply")) and (.text | test("first apply")))' cat "$T/render-nobody.json"

# --- the table is still what apply made (counters are not drift); drift is repaired
vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "re-apply after the traffic changes nothing" test "$rc" = 0
x host nft delete table bridge vmnet
vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "a deleted bridge table is drift that apply repairs" test "$rc" = 2
check "... and it is back" x host nft list set bridge vmnet guest_ports
check "destroy" vm "$P-host" destroy "$T/plan.xml"
check "destroy removes table bridge vmnet" sh -c "! ip netns exec $P-host nft list table bridge vmnet >/dev/null 2>&1"
finish
