#!/bin/bash
# NAT end to end through the real vmnet binary, data plane included:
#
#   [g1] 10.99.1.10 --veth-- vm-lab (10.99.1.1) [host: vmnet] wan0 203.0.113.1 --veth-- [up] 203.0.113.2
#   [g2] 10.99.1.11 --veth--'
#
# A guest reaches the upstream through the masquerade and the upstream sees
# the host's address; a port forward of the host's address reaches a service
# in the guest from the upstream, from another guest (hairpin) and from the
# host itself. Runs on any kernel with bridges and nftables (here and in the VM).
. "$top_srcdir/tests/netns/lib.sh"

host=$(newns host)
up=vmnet-t$$-up; ip netns add "$up"; track_ns "$up"
ip -n "$up" link set lo up
ip -n "$host" link add wan0 type veth peer name eth0 netns "$up"
ip -n "$host" addr add 203.0.113.1/24 dev wan0
ip -n "$host" link set wan0 up
ip -n "$up" addr add 203.0.113.2/24 dev eth0
ip -n "$up" link set eth0 up

cat >"$T/nat.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-nat">
  <network name="lab" mode="nat" bridge="vm-lab">
    <subnet cidr="10.99.1.0/24" gateway="10.99.1.1"/>
    <nat out="wan0">
      <port-forward proto="tcp" host-port="8080" to="10.99.1.10" to-port="80"/>
    </nat>
  </network>
</plan>
XML
check "apply of the NAT plan" vm "$host" apply "$T/nat.xml"

guest() { # NAME ADDR
        local g=vmnet-t$$-$1
        ip netns add "$g"; track_ns "$g"
        ip -n "$g" link set lo up
        ip -n "$host" link add gv$1 type veth peer name eth0 netns "$g"
        ip -n "$host" link set gv$1 master vm-lab up
        ip -n "$g" addr add "$2/24" dev eth0
        ip -n "$g" link set eth0 up
        ip -n "$g" route add default via 10.99.1.1
        echo "$g"
}
g1=$(guest g1 10.99.1.10)
g2=$(guest g2 10.99.1.11)

# The upstream counts where its pings come from, read independently with nft.
ip netns exec "$up" nft -f - <<'NFT'
table inet probe {
        chain input {
                type filter hook input priority 0; policy accept;
                ip saddr 203.0.113.1 icmp type echo-request counter
                ip saddr 10.99.1.0/24 icmp type echo-request counter
        }
}
NFT
check "a guest reaches the upstream through the masquerade" ip netns exec "$g1" busybox ping -c 2 -W 2 203.0.113.2
counters=$(ip netns exec "$up" nft -j list table inet probe | jq -c '[.nftables[] | .rule? | select(.) | .expr[] | .counter? | select(.) | .packets]')
check "the upstream saw the host's address, never the guest's ($counters)" test "$counters" = "[2,0]"

# busybox nc -l quits as soon as its stdin ends: from /dev/null (a background
# job's) it accepted the connection and left before the data came, so the
# forward checks failed whenever the sender was slower than the accept. Its
# stdin is a FIFO this shell holds open (fd 9) until the connection is over.
mkfifo "$T/hold"
exec 9<>"$T/hold"
serve() { # NS FILE: one TCP connection on port 80, its bytes into FILE; returns once it listens
        ip netns exec "$1" timeout 60 busybox nc -l -p 80 <"$T/hold" >"$2" 2>/dev/null &
        for _ in $(seq 300); do
                ip netns exec "$1" ss -Htln 'sport = :80' | grep -q . && return 0
                sleep 0.1
        done
        echo "listener in $1 never came up" >&2
}
send() { # NS TEXT: to the host's address, port 8080 (the listener's wait reads the result)
        echo "$2" | ip netns exec "$1" timeout 30 busybox nc -w 10 203.0.113.1 8080 >/dev/null 2>"$T/send.err"
        sent="nc exit $?$( [ -s "$T/send.err" ] && printf ', %s' "$(head -c 200 "$T/send.err")")"
}
serve "$g1" "$T/got1"; send "$up" "from-upstream"; wait
check "a port forward of the host's address reaches the guest from the upstream" grep -q from-upstream "$T/got1"
serve "$g1" "$T/got2"; send "$g2" "from-g2"; wait
check "hairpin: another guest of the same network reaches the port forward" grep -q from-g2 "$T/got2"
serve "$g1" "$T/got3"; send "$host" "from-host"; wait
check "the host itself reaches the port forward ($sent; listener got: $(head -c 80 "$T/got3"))" grep -q from-host "$T/got3"

# The guest is not reachable from outside except through the forward.
ip -n "$up" route add 10.99.1.0/24 via 203.0.113.1
check "no unsolicited traffic into the NAT network" sh -c "! ip netns exec $up busybox ping -c 1 -W 1 10.99.1.10 >/dev/null 2>&1"

vm "$host" --json apply --detailed-exitcode "$T/nat.xml"; rc=$?
check "re-apply with guests attached changes nothing" test "$rc" = 0
finish
