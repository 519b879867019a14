#!/bin/bash
# The reachability matrix of vmnet-plan(5) (REACHABILITY), cell by cell, with
# real traffic, IPv4 and IPv6, TCP and ICMP (issue 16):
#
#              [up] 203.0.113.2 2001:db8:ff::2   (the outside; routes the routed subnets to the host)
#                |  wan0 203.0.113.1 2001:db8:ff::1
#   [up2] 198.51.100.2 --- wan1 198.51.100.1 [host: vmnet, services on 0.0.0.0:2222 and [::]:2222]
#                |  lan0 (uplink of the bridged network)--- [lan] 192.0.2.2 2001:db8:2::2
#     vm-nat 10.99.1.1 fd99:1::1 (out=wan0, forwards 8080 -> gnat:80, 8086 -> [gnat]:80)
#        gnat .10 ::10, gnat2 .11 ::11, gra6 (no address: reads the RA)
#     vm-ho  10.99.2.1 fd99:2::1: gho .10 ::10, gra (no address: reads the RA)
#     vm-iso (no host address): giso 10.99.3.10 fd99:3::10, giso2 .11 ::11
#     vm-rt  10.99.4.1 fd99:4::1: grt .10 ::10
#     vm-br  (bridged onto lan0): gbr 192.0.2.10 2001:db8:2::10
#   <allow from=rt to=ho proto=tcp port=80/>, <allow-host from=ho proto=tcp port=2222/>
#
# Every guest uses a host address as its default gateway, whatever its mode;
# on isolated and bridged networks, where the host answers no ARP and has no
# IPv6, it is given the bridge's MAC address as a permanent neighbour, as a
# hostile guest would. Allowed cells must pass (the listener logged the token,
# or the receiver's ICMP echo counter grew); denied cells must not arrive at
# all: the token is not in the receiver's log, the receiver's IcmpInEchos /
# Icmp6InEchos did not move. Cells that touch L2 inside one bridge run with
# and without br_netfilter's bridge-nf-call-ip(6)tables.
#
# VMNET_MATRIX_BASE=1 leaves out <allow-host>, which releases before issue 16
# do not know, so the same walk can run against an older vmnet
# (VMNET=/path/to/old/vmnet): it must fail there.
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"

host_and_outside
ns_new up2; ns_new lan
wire host wan1 up2 eth0
ip -n "$P-lan" link add eth0 type veth peer name lan0 netns "$P-host"
ip -n "$P-lan" link set eth0 up
ip -n "$P-host" link set lan0 up
ip -n "$P-host" addr add 198.51.100.1/24 dev wan1
ip -n "$P-up2" addr add 198.51.100.2/24 dev eth0
ip -n "$P-lan" addr add 192.0.2.2/24 dev eth0
ip -n "$P-lan" addr add 2001:db8:2::2/64 dev eth0 nodad
# The outside routes every subnet to the host, so that only the host's
# rules decide (for NAT and host-only too: a LAN router could do that).
for net in 10.99.1.0/24 10.99.2.0/24 10.99.3.0/24 10.99.4.0/24; do
        ip -n "$P-up" route add $net via 203.0.113.1
        ip -n "$P-up2" route add $net via 198.51.100.1
done
for net in fd99:1::/64 fd99:2::/64 fd99:3::/64 fd99:4::/64; do
        ip -n "$P-up" -6 route add $net via 2001:db8:ff::1
done

host_allow='<allow-host from="ho" proto="tcp" port="2222"/>'
[ "${VMNET_MATRIX_BASE:-0}" = 1 ] && host_allow=
cat >"$T/plan.xml" <<XML
<plan xmlns="urn:vmnet:plan:1" name="t-matrix">
$(nat_network)
  <network name="ho" mode="host-only" bridge="vm-ho">
    <subnet cidr="10.99.2.0/24" gateway="10.99.2.1">
      <dhcp start="10.99.2.100" end="10.99.2.150"/>
    </subnet>
    <subnet cidr="fd99:2::/64" gateway="fd99:2::1"/>
  </network>
  <network name="iso" mode="isolated" bridge="vm-iso" mac="52:54:00:99:00:03"/>
  <network name="rt" mode="routed" bridge="vm-rt">
    <subnet cidr="10.99.4.0/24" gateway="10.99.4.1"/>
    <subnet cidr="fd99:4::/64" gateway="fd99:4::1"/>
  </network>
  <network name="br" mode="bridged" bridge="vm-br" mac="52:54:00:99:00:05">
    <uplink dev="lan0"/>
  </network>
  <policy>
    <allow from="rt" to="ho" proto="tcp" port="80"/>
    $host_allow
  </policy>
</plan>
XML
apply_or_stop "the matrix plan"

guest gnat vm-nat 10.99.1.10/24 10.99.1.1 fd99:1::10/64 fd99:1::1
guest gnat2 vm-nat 10.99.1.11/24 10.99.1.1 fd99:1::11/64 fd99:1::1
guest gho vm-ho 10.99.2.10/24 10.99.2.1 fd99:2::10/64 fd99:2::1
guest grt vm-rt 10.99.4.10/24 10.99.4.1 fd99:4::10/64 fd99:4::1
# (fixed bridge MACs in the plan: a bridge without one takes its lowest port's)
isomac=52:54:00:99:00:03 brmac=52:54:00:99:00:05
# A hostile isolated guest: the host's NAT gateway address as its router.
guest giso vm-iso 10.99.3.10/24 10.99.1.1 fd99:3::10/64 fd99:1::1 "$isomac"
guest giso2 vm-iso 10.99.3.11/24 10.99.1.1 fd99:3::11/64 fd99:1::1 "$isomac"
guest gbr vm-br 192.0.2.10/24 10.99.1.1 2001:db8:2::10/64 fd99:1::1 "$brmac"
# A spoofing NAT guest: an address outside its network's subnet.
ip -n "$P-gnat" addr add 198.18.0.9/32 dev eth0

# Listeners: the host's service on 0.0.0.0 and [::], every guest and peer on port 80 (and 81).
listen host 0.0.0.0:2222 [::]:2222
for g in gnat gnat2 gho grt giso2 gbr up up2 lan; do listen "$g" 0.0.0.0:80 [::]:80 0.0.0.0:81 [::]:81; done
listening host gnat gnat2 gho grt giso2 gbr up up2 lan

# --- the host has no presence on isolated and bridged networks (findings 1, 2)
for br in vm-iso vm-br; do
        check "$br has no IPv6 address at all (no fe80::)" \
                jtrue '[.[].addr_info[] | select(.family == "inet6")] == []' ip -n "$P-host" -j addr show dev $br
        host_absent "$br"
done
check "vm-nat keeps its IPv6 (the host is the router there)" \
        jtrue '[.[].addr_info[] | select(.family == "inet6" and .scope == "link")] | length == 1' \
        ip -n "$P-host" -j addr show dev vm-nat
for g in giso gbr; do
        check "the host answers no ARP for its gateway address on $g's network" \
                sh -c "! ip netns exec $P-$g busybox arping -c 1 -w 1 -I eth0 10.99.1.1 >/dev/null 2>&1"
done

# --- host-only IPv6 advertises no router (finding 4); NAT does
ra_guest grao vm-nat; ra_guest grah vm-ho
check "NAT network: the RA gave the guest an address" slaac grao fd99:1:
check "NAT network: ... and the host as default router" test -n "$(ip -n "$P-grao" -6 route show default)"
check "host-only network: the RA gave the guest an address" slaac grah fd99:2:
check "host-only network: ... but no default router (router lifetime 0)" \
        test -z "$(ip -n "$P-grah" -6 route show default)"
check "host-only dnsmasq configuration: ra-param with router lifetime 0" \
        grep -rqx 'ra-param=vm-ho,0,0' "$VMNET_STATE_DIR"

# A router advertisement from the bridged network's LAN does not reach the
# host: a guest on that network takes it (proof that it was sent), the host not.
x lan dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=eth0 --bind-interfaces \
        --dhcp-leasefile="$T/lan.leases" --enable-ra --dhcp-range=2001:db8:2::,ra-only,64 \
        --pid-file="$T/lan-dnsmasq.pid" >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s "$T/lan-dnsmasq.pid" ] && break; sleep 0.05; done
# $! is the subshell running x, not dnsmasq: its own pid file names it.
lan_dnsmasq=$(cat "$T/lan-dnsmasq.pid" 2>/dev/null)
track_pid "$lan_dnsmasq"
ra_guest gbra vm-br
check "the LAN's router advertisement reached a guest of the bridged network" slaac gbra 2001:db8:2:
check "... but gave the host no address on vm-br" \
        jtrue '[.[].addr_info[]] == []' ip -n "$P-host" -j addr show dev vm-br
check "... and no route through vm-br" test -z "$(ip -n "$P-host" -6 route show dev vm-br)"
kill "$lan_dnsmasq" 2>/dev/null
lan_gone() { [ -n "$lan_dnsmasq" ] && ! kill -0 "$lan_dnsmasq" 2>/dev/null; }
check "the LAN's dnsmasq is gone" wait_for 10 lan_gone

# --- guest to guest, same network (L2): with and without br_netfilter
for nf in 1 0; do
        x host sysctl -qw net.bridge.bridge-nf-call-iptables=$nf net.bridge.bridge-nf-call-ip6tables=$nf
        w="same network, bridge-nf-call=$nf"
        both allow "$w, nat" gnat gnat2 10.99.1.11; both allow "$w, nat" gnat gnat2 fd99:1::11
        both allow "$w, isolated" giso giso2 10.99.3.11; both allow "$w, isolated" giso giso2 fd99:3::11
        both allow "$w, bridged guest to the LAN" gbr lan 192.0.2.2
        both allow "$w, bridged guest to the LAN" gbr lan 2001:db8:2::2
done
x host sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1

# --- guest to guest, another vmnet network: denied unless the policy allows
both deny "another network, nat -> host-only" gnat gho 10.99.2.10
both deny "another network, nat -> host-only" gnat gho fd99:2::10
both deny "another network, nat -> routed" gnat grt 10.99.4.10
both deny "another network, nat -> routed" gnat grt fd99:4::10
both deny "another network, routed -> nat" grt gnat 10.99.1.10
both deny "another network, host-only -> routed" gho grt fd99:4::10
tcp allow "policy allow rt -> ho tcp/80" grt gho 10.99.2.10 80
tcp allow "policy allow rt -> ho tcp/80" grt gho fd99:2::10 80
tcp deny "policy allow rt -> ho is tcp/80 only" grt gho 10.99.2.10 81
icmp deny "policy allow rt -> ho is tcp/80 only" grt gho fd99:2::10
tcp deny "policy allow rt -> ho is one-way" gho grt 10.99.4.10 80
both deny "isolated guest through the host's MAC into nat" giso gnat 10.99.1.10
both deny "isolated guest through the host's MAC into nat" giso gnat fd99:1::10
both deny "bridged guest through the host's MAC into routed" gbr grt 10.99.4.10
both deny "bridged guest through the host's MAC into routed" gbr grt fd99:4::10

# --- guest to host: ICMP, DNS/DHCP and what the plan allows; not the host's other services (finding 6)
for a in 10.99.1.1 203.0.113.1 10.99.2.1 fd99:1::1 2001:db8:ff::1; do
        icmp allow "nat guest to a host address" gnat host $a
        tcp deny "nat guest to the host's service on 0.0.0.0/[::]" gnat host $a 2222
done
nat_ll=$(jread '.[0].addr_info[] | select(.scope == "link") | .local' ip -n "$P-host" -j addr show dev vm-nat | tr -d '"')
tcp deny "nat guest to the host's link-local" gnat host "$nat_ll%eth0" 2222
icmp allow "nat guest to the host's link-local" gnat host "$nat_ll" eth0
for a in 10.99.2.1 fd99:2::1 203.0.113.1 2001:db8:ff::1; do
        tcp allow "<allow-host from=ho tcp/2222>" gho host $a 2222
        icmp allow "host-only guest to a host address" gho host $a
done
for a in 10.99.4.1 fd99:4::1 203.0.113.1; do
        tcp deny "routed guest to the host's service" grt host $a 2222
        icmp allow "routed guest to a host address" grt host $a
done
for a in 10.99.1.1 203.0.113.1 fd99:1::1 2001:db8:ff::1; do
        both deny "isolated guest to the host (through its MAC)" giso host $a 2222
        both deny "bridged guest to the host (through its MAC)" gbr host $a 2222
done
# DNS and DHCP where vmnet serves them: the host's dnsmasq answers the guest.
check "nat guest gets a DHCP lease from the host" \
        x gnat2 busybox udhcpc -i eth0 -n -q -t 8 -T 1 -s /bin/true >/dev/null 2>&1
check "nat guest gets an answer from the host's DNS" test "$(x gnat "$PY" "$PROBE" dns 10.99.1.1)" = answer
check "nat guest gets an answer from the host's DNS over IPv6" test "$(x gnat "$PY" "$PROBE" dns fd99:1::1)" = answer

# --- guest to the outside through the host
tcp allow "nat guest to the outside (out=wan0)" gnat up 203.0.113.2 80
check "... masqueraded: the outside saw the host's address" grep -q "^c$n 203.0.113.1 " "$T/log-up"
both allow "nat guest to the outside over IPv6" gnat up 2001:db8:ff::2
both deny "nat guest out of wan1, not its out= (finding 3)" gnat up2 198.51.100.2
x up nft -f - <<'NFT'
table inet probe {
        chain pre {
                type filter hook prerouting priority -300; policy accept;
                ip saddr 198.18.0.9 counter
        }
}
NFT
tcp deny "nat guest with a spoofed source 198.18.0.9 (finding 3)" gnat up 203.0.113.2 80 198.18.0.9
check "... not one packet from 198.18.0.9 reached the outside" \
        jtrue '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets] == [0]' \
        ip netns exec "$P-up" nft -j list table inet probe
icmp deny "nat guest with a spoofed source 198.18.0.9 (finding 3)" gnat up 203.0.113.2 198.18.0.9
both deny "host-only guest to the outside" gho up 203.0.113.2
both deny "host-only guest to the outside" gho up 2001:db8:ff::2
tcp allow "routed guest to the outside" grt up 203.0.113.2 80
check "... not translated: the outside saw the guest's address" grep -q "^c$n 10.99.4.10 " "$T/log-up"
both allow "routed guest to the outside" grt up 2001:db8:ff::2
both deny "isolated guest through the host's MAC to the outside (finding 1)" giso up 203.0.113.2
both deny "isolated guest through the host's MAC to the outside (finding 1)" giso up 2001:db8:ff::2
both deny "bridged guest through the host's MAC to the outside (finding 1)" gbr up 203.0.113.2
both deny "bridged guest through the host's MAC to the outside (finding 1)" gbr up 2001:db8:ff::2

# --- the outside to guests
both deny "outside to a nat guest" up gnat 10.99.1.10
both deny "outside to a nat guest" up gnat fd99:1::10
both deny "outside to a host-only guest" up gho 10.99.2.10
both deny "outside to a host-only guest" up gho fd99:2::10
both allow "outside to a routed guest" up grt 10.99.4.10
both allow "outside to a routed guest" up grt fd99:4::10
both deny "outside to an isolated guest" up giso2 10.99.3.11
both deny "outside to an isolated guest" up giso2 fd99:3::11

# --- the host to guests
both allow "host to a nat guest" host gnat 10.99.1.10
both allow "host to a nat guest" host gnat fd99:1::10
both allow "host to a host-only guest" host gho 10.99.2.10
both allow "host to a routed guest" host grt fd99:4::10
both deny "host to an isolated guest (no route, no address)" host giso2 10.99.3.11
both deny "host to a bridged guest (no address on the LAN)" host gbr 192.0.2.10

# --- port forwards: from outside, from the host, hairpin, from another network
tcp allow "port forward from outside" up gnat 203.0.113.1 8080
tcp allow "port forward from outside (IPv6)" up gnat 2001:db8:ff::1 8086
tcp allow "port forward from the host" host gnat 203.0.113.1 8080
tcp allow "port forward, hairpin" gnat2 gnat 203.0.113.1 8080
tcp allow "port forward, hairpin (IPv6)" gnat2 gnat 2001:db8:ff::1 8086
tcp allow "port forward from another network" gho gnat 203.0.113.1 8080
tcp deny "port forward from an isolated guest (through the host's MAC)" giso gnat 203.0.113.1 8080

# The table is still what apply made.
vm "$P-host" --json apply --detailed-exitcode "$T/plan.xml"; rc=$?
check "re-apply with guests attached changes nothing" test "$rc" = 0
check "destroy" vm "$P-host" destroy "$T/plan.xml"

# --- an existing bridge (a '.' in its name) adopted as an isolated network gets
# the settings, and destroy gives it its old values back
ip -n "$P-host" link add br-ad.1 type bridge
ip -n "$P-host" link set br-ad.1 up
cat >"$T/adopt.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-matrix-adopt">
  <network name="iso2" mode="isolated" bridge="br-ad.1" adopt="yes"/>
</plan>
XML
ad() { x host sysctl -n net.ipv6.conf.br-ad/1.disable_ipv6 net.ipv4.conf.br-ad/1.arp_ignore | tr '\n' ' '; }
check "br-ad.1 before: disable_ipv6=0, arp_ignore=0" test "$(ad)" = "0 0 "
check "apply adopting br-ad.1 as an isolated network" vm "$P-host" apply "$T/adopt.xml"
check "adopted br-ad.1: disable_ipv6=1, arp_ignore=8" test "$(ad)" = "1 8 "
check "destroy of the adopting plan" vm "$P-host" destroy "$T/adopt.xml"
check "destroy gave br-ad.1 its old values back" test "$(ad)" = "0 0 "
finish
