#!/bin/sh
# gen-plan.sh KIND N: prints a plan for the benchmark.
#   vlan N: N bridged networks, each a VLAN subinterface of the trunk bt0 enslaved to its own bridge
#   veth N: N bridged networks, each enslaving the existing link bu$i as its uplink
#   nat  N: one NAT network with N port forwards
#   nat-nets N, routed-nets N: N NAT (routed) networks, bridge fb$i, subnets
#       one after the other from 10.100.0.0, gateway .1: 256 addresses each,
#       more for the first with PORTS; the forwarding benchmark's guest is .10
#       of the last network (bench/run-fwd.sh)
#   PORTS=P (with nat-nets and routed-nets): P guest ports on the first
#       network as well, one interface each with its MAC and IPv4 address
#       (from .20 on), so a renderer that keys per-port rules on them
#       (anti-spoofing) has P entries to load; 0 by default. The benchmark's
#       guest is then a declared port too: domain "bench", MAC
#       52:54:00:ff:ff:ff, .10 of the last network. (The addresses are DHCP
#       reservations: vmnet then runs dnsmasq for those networks.)
#   DHCP=1 (with nat-nets and routed-nets): every network serves DHCP from
#       the 99 addresses below its broadcast address (.156-.254 of a /24),
#       above any PORTS addresses (bench/run-peer.sh gives libvirt's own NAT
#       networks the same subnets and ranges)
set -eu
kind=$1 n=$2
ports=${PORTS:-0}
dhcp=${DHCP:-0}
echo '<?xml version="1.0" encoding="UTF-8"?>'
echo "<plan xmlns=\"urn:vmnet:plan:1\" name=\"bench-$kind-$n\">"
case $kind in
nat-nets | routed-nets)
        mode=${kind%-nets}
        awk -v n="$n" -v mode="$mode" -v ports="$ports" -v dhcp="$dhcp" '
        function ip(x) { return sprintf("%d.%d.%d.%d", int(x / 16777216), int(x / 65536) % 256, int(x / 256) % 256, x % 256) }
        BEGIN {
                size = 256; plen = 24
                while (size < ports + 32) { size *= 2; plen-- }
                base = 10 * 16777216 + 100 * 65536
                for (i = 1; i <= n; i++) {
                        net = i == 1 ? base : base + size + (i - 2) * 256
                        top = net + (i == 1 ? size : 256) - 1
                        range = dhcp == 1 ? sprintf("><dhcp start=\"%s\" end=\"%s\"/></subnet>", ip(top - 99), ip(top - 1)) : "/>"
                        printf "  <network name=\"f%d\" mode=\"%s\" bridge=\"fb%d\"><subnet cidr=\"%s/%d\" gateway=\"%s\"%s</network>\n", i, mode, i, ip(net), i == 1 ? plen : 24, ip(net + 1), range
                }
                if (ports > 0)
                        printf "  <domain name=\"bench\"><interface network=\"f%d\" mac=\"52:54:00:ff:ff:ff\" ip=\"%s\"/></domain>\n", n, ip((n == 1 ? base : base + size + (n - 2) * 256) + 10)
                for (p = 0; p < ports; p++)
                        printf "  <domain name=\"g%d\"><interface network=\"f1\" mac=\"52:54:00:%02x:%02x:%02x\" ip=\"%s\"/></domain>\n", p, int(p / 65536) % 256, int(p / 256) % 256, p % 256, ip(base + 20 + p)
        }'
        ;;
vlan)
        i=1
        while [ "$i" -le "$n" ]; do
                echo "  <network name=\"v$i\" mode=\"bridged\" bridge=\"bb$i\"><uplink dev=\"bt0\" vlan=\"$i\"/></network>"
                i=$((i + 1))
        done
        ;;
veth)
        i=1
        while [ "$i" -le "$n" ]; do
                echo "  <network name=\"v$i\" mode=\"bridged\" bridge=\"bb$i\"><uplink dev=\"bu$i\"/></network>"
                i=$((i + 1))
        done
        ;;
nat)
        echo '  <network name="lab" mode="nat" bridge="bn0"><subnet cidr="10.200.0.0/16" gateway="10.200.0.1"/><nat>'
        i=1
        while [ "$i" -le "$n" ]; do
                echo "    <port-forward proto=\"tcp\" host-port=\"$((20000 + i))\" to=\"10.200.$((i / 250)).$((i % 250 + 2))\" to-port=\"80\"/>"
                i=$((i + 1))
        done
        echo '  </nat></network>'
        ;;
esac
echo "</plan>"
