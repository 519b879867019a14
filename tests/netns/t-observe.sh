#!/bin/bash
# Seeing the host (issue 18): the traffic counters of `vmnet status --stats`
# and `vmnet metrics` move with traffic a stand-in guest sends, and the
# picture of `vmnet status --format dot` renders and names every object.
#
#   [g1] eth0 10.99.1.10 --veth vmn525400000010-- vm-nat (10.99.1.1) [host] wan0 -- eth0 [up] 203.0.113.2
#                                           vm-lan <- wan1 -- eth0 [lan]
#
# (untagged: the kernel of the machine that runs make check has no 8021q;
# the VM tests draw VLAN links)
#
# The guest's port is named as vmnet names a guest's tap, so vmnet knows it
# as domain g1's interface 52:54:00:00:00:10. The traffic is one-way UDP to a
# port the upstream drops silently, so each direction is known.
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"

host_and_outside
ns_new lan
wire host wan1 lan eth0

cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-observe">
  <network name="nat" mode="nat" bridge="vm-nat">
    <subnet cidr="10.99.1.0/24" gateway="10.99.1.1"/>
    <nat out="wan0"/>
  </network>
  <network name="lan" mode="bridged" bridge="vm-lan">
    <uplink dev="wan1"/>
  </network>
  <domain name="g1">
    <interface network="nat" mac="52:54:00:00:00:10" ip="10.99.1.10"/>
  </domain>
  <domain name="g2">
    <interface network="lan" mac="52:54:00:00:00:20"/>
  </domain>
  <domain name="g3">
    <interface network="nat" mac="52:54:00:00:00:30" ip="10.99.1.30"/>
  </domain>
</plan>
XML
# track_dnsmasq: the dnsmasq instances vmnet started, stopped at exit even
# when the test ends early (a process keeps its namespace alive)
track_dnsmasq() {
        local f
        for f in $(find "$VMNET_RUN_DIR" -name '*.pid' 2>/dev/null); do track_pid "$(cat "$f")"; done
}
apply_or_stop "a nat and a bridged network"
track_dnsmasq

port=vmn525400000010
ns_new g1
ip -n "$P-host" link add "$port" type veth peer name eth0 address 52:54:00:00:00:10 netns "$P-g1"
ip -n "$P-host" link set "$port" master vm-nat up
ip -n "$P-g1" link set eth0 up
ip -n "$P-g1" addr add 10.99.1.10/24 dev eth0
ip -n "$P-g1" route add default via 10.99.1.1

# The upstream drops UDP to port 9 without a word, and counts what arrives.
x up nft -f - <<'NFT'
table inet sink {
        chain input {
                type filter hook input priority 0; policy accept;
                udp dport 9 counter drop
        }
}
NFT

# stats NAME KEY: a counter of vmnet's --json status --stats for the row of link NAME
stats() {
        jread ".traffic[] | select(.link == \"$1\") | .$2" \
                "$VMNET" --netns "$P-host" --json status --stats "$T/plan.xml" --no-libvirt
}
# kernel NAME rx|tx: the host end's byte counter, read with ip (stats64)
kernel() { jread ".[0].stats64.$2.bytes" ip -n "$P-host" -s -j link show "$1"; }

n=300 size=1000
k_rx0=$(kernel "$port" rx)
tx0=$(stats "$port" transmit_bytes) rx0=$(stats "$port" receive_bytes) brx0=$(stats vm-nat receive_bytes)
k_rx1=$(kernel "$port" rx)
check "vmnet's port transmit counter is the host end's rx counter (ip: $k_rx0..$k_rx1, vmnet: $tx0)" \
        test "$k_rx0" -le "$tx0" -a "$tx0" -le "$k_rx1"
x g1 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[1])):
    s.sendto(b"x" * int(sys.argv[2]), ("203.0.113.2", 9))
' "$n" "$size"
# bounded wait until the upstream counted every datagram (the NAT passed them)
for _ in $(seq 50); do
        got=$(jread '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add' \
                ip netns exec "$P-up" nft -j list table inet sink)
        [ "$got" -ge "$n" ] && break
        sleep 0.1
done
check "the upstream received the $n datagrams ($got)" test "$got" -ge "$n"
tx1=$(stats "$port" transmit_bytes) rx1=$(stats "$port" receive_bytes) brx1=$(stats vm-nat receive_bytes)
# a frame: the payload, 8 UDP, 20 IPv4 and 14 Ethernet bytes
check "the guest's transmit bytes rose by at least $n x $((size + 42)) ($((tx1 - tx0)))" \
        test $((tx1 - tx0)) -ge $((n * (size + 42)))
check "the guest's receive bytes did not take the one-way traffic ($((rx1 - rx0)))" \
        test $((rx1 - rx0)) -lt $((n * size))
# the bridge passes the datagrams up to the host, which routes them: without the Ethernet header
check "network nat's bridge received at least $n x $((size + 28)) ($((brx1 - brx0)))" \
        test $((brx1 - brx0)) -ge $((n * (size + 28)))
check "the port's row names domain g1 and its MAC" \
        jtrue --arg p "$port" '[.traffic[] | select(.link == $p) | [.network, .kind, .domain, .mac]] == [["nat", "port", "g1", "52:54:00:00:00:10"]]' \
        "$VMNET" --netns "$P-host" --json status --stats "$T/plan.xml" --no-libvirt
check "status --stats --interval 1 gives rates, text and JSON" \
        jtrue --arg p "$port" '[.traffic[] | select(.link == $p) | .per_second | has("transmit_bytes")] == [true]' \
        "$VMNET" --netns "$P-host" --json status --stats --interval 1 "$T/plan.xml" --no-libvirt
vm "$P-host" status --stats "$T/plan.xml" --no-libvirt
check "status --stats prints the port's line" grep -q "^  nat *$port *g1 52:54:00:00:00:10 *rx " "$T/out"

# metrics: the file node_exporter's textfile collector reads
mkdir "$T/textfile"
check "metrics --output writes the file" \
        "$VMNET" --netns "$P-host" metrics --no-libvirt --output "$T/textfile/vmnet.prom" "$T/plan.xml"
line=$(grep "^vmnet_port_transmit_bytes_total{" "$T/textfile/vmnet.prom")
check "metrics: the port's transmit bytes, labelled ($line)" \
        test "$(echo "$line" | sed 's/ [0-9]*$//')" = 'vmnet_port_transmit_bytes_total{network="nat",port="vmn525400000010",domain="g1",mac="52:54:00:00:00:10"}'
check "metrics: the value has the traffic" test "$(echo "$line" | awk '{ print $2 }')" -ge "$tx1"
check "metrics: the network's counters, labelled" \
        grep -qx 'vmnet_network_receive_bytes_total{network="nat",bridge="vm-nat",mode="nat"} [0-9]*' "$T/textfile/vmnet.prom"
# every sample line is NAME{LABELS} VALUE, every family has HELP and TYPE counter
check "metrics: every line is a comment or a well-formed sample" \
        sh -c "! grep -Ev '^(# (HELP|TYPE) vmnet_[a-z_]+ .+|vmnet_(network|port)_(receive|transmit)_(bytes|packets|errors|drops)_total\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*\} [0-9]+)\$' '$T/textfile/vmnet.prom'"
check "metrics: 16 families, each with TYPE counter" test "$(grep -c '^# TYPE .* counter$' "$T/textfile/vmnet.prom")" = 16
check "metrics: the file is 0644 and no temporary file is left" \
        test "$(stat -c %a "$T/textfile/vmnet.prom") $(ls "$T/textfile" | wc -l)" = "644 1"

# the picture: renders, and names every object of the plan that the host has
vm "$P-host" status --format dot "$T/plan.xml" --no-libvirt; rc=$?
check "status --format dot exits 0 (rc $rc)" test "$rc" = 0
check "dot -Tsvg renders it" dot -Tsvg -o "$T/picture.svg" "$T/out"
names=$(jread '[.[] | select(.master == "vm-nat" or .master == "vm-lan" or .ifname == "vm-nat" or .ifname == "vm-lan") | .ifname] | join(" ")' \
        ip -n "$P-host" -j link show | tr -d '"')
names="$names wan1 wan0 nat lan g1 52:54:00:00:00:10 52:54:00:00:00:20 10.99.1.10 10.99.1.0/24"
# Graphviz writes '-' as &#45;
sed -i 's/&#45;/-/g' "$T/picture.svg"
missing=
for name in $names; do
        grep -q ">[^<]*$name[^<]*</text>" "$T/picture.svg" || missing="$missing $name"
done
check "the picture names every object ($(echo $names | wc -w) names; missing:${missing:- none})" test -z "$missing"
check "the unplugged g2 is drawn as such" grep -q ">not plugged in</text>" "$T/picture.svg"
ip -n "$P-host" link set wan1 nomaster
vm "$P-host" status --format dot "$T/plan.xml" --no-libvirt
check "drift is drawn: the uplink not enslaved, the drift note" \
        sh -c "grep -q 'uplink (not enslaved)' '$T/out' && grep -q 'drift: ' '$T/out' && dot -Tsvg '$T/out' >/dev/null"

# Guest addresses from the neighbour table (issue 18, point 3): g3 (a port
# anti-spoofing does not check: not a vmnet tap name) announces itself with
# an address in no subnet of its network, then with one the plan does not
# give it; the host learns both from its ARP requests for the gateway.
ns_new g3
ip -n "$P-host" link add v-g3 type veth peer name eth0 address 52:54:00:00:00:30 netns "$P-g3"
ip -n "$P-host" link set v-g3 master vm-nat up
ip -n "$P-g3" link set eth0 up
for src in 192.0.2.77 10.99.1.31; do
        x g3 "$PY" "$PROBE" arp eth0 52:54:00:00:00:30 "$src" 10.99.1.1 >/dev/null
done
for _ in $(seq 30); do
        [ "$(ip -n "$P-host" neigh show dev vm-nat 10.99.1.31 | wc -l)" = 1 ] && break
        sleep 0.1
done
check "the host's neighbour table has g3's two addresses (read with ip)" \
        jtrue '[.[] | select(.lladdr == "52:54:00:00:00:30") | .dst] | sort == ["10.99.1.31", "192.0.2.77"]' \
        ip -n "$P-host" -j neigh show dev vm-nat
# the host talks to g1 once, so its table surely has g1 (the datagrams above were one-way)
x host busybox ping -c 1 -W 2 10.99.1.10 >/dev/null
"$VMNET" --netns "$P-host" --json ipam --no-libvirt "$T/plan.xml" >"$T/ipam.json" 2>"$T/ipam.err"
check "ipam lists g3's addresses with their source, neighbour" \
        jtrue '[.ipam.addresses[] | select(.mac == "52:54:00:00:00:30") | "\(.ip) \(.source) \(.domain)"] | sort == ["10.99.1.30 plan g3", "10.99.1.31 neighbour g3", "192.0.2.77 neighbour g3"]' \
        cat "$T/ipam.json"
check "ipam lists g1's address from the neighbour table too" \
        jtrue '[.ipam.addresses[] | select(.mac == "52:54:00:00:00:10" and .source == "neighbour") | .ip] == ["10.99.1.10"]' \
        cat "$T/ipam.json"
check "ipam flags 192.0.2.77: in no subnet of network nat" \
        jtrue '[.warnings[].message | select(test("g3.*192\\.0\\.2\\.77 \\(neighbour\\), which is in none of the network.s subnets"))] | length == 1' \
        cat "$T/ipam.json"
check "ipam flags 10.99.1.31: not the plan's 10.99.1.30" \
        jtrue '[.warnings[].message | select(test("g3.*10\\.99\\.1\\.31 \\(neighbour\\) but is assigned 10\\.99\\.1\\.30 \\(plan\\)"))] | length == 1' \
        cat "$T/ipam.json"
check "ipam flags nothing about g1" \
        jtrue '[.warnings[].message | select(test("52:54:00:00:00:10"))] == []' cat "$T/ipam.json"
check "status shows the neighbour addresses and flags 192.0.2.77 too" \
        jtrue '([.guest_addresses[] | select(.domain == "g3") | "\(.ip) \(.source)"] | sort == ["10.99.1.31 neighbour", "192.0.2.77 neighbour"]) and ([.warnings[].message | select(test("192\\.0\\.2\\.77 \\(neighbour\\), which is in none"))] | length == 1)' \
        "$VMNET" --netns "$P-host" --json status --no-libvirt "$T/plan.xml"
check "destroy" vm "$P-host" destroy "$T/plan.xml"
finish
