#!/bin/bash
# vmnet doctor --probe (issue 18, point 4): a temporary port acts as a guest
# of a NAT network (DHCP, ping the gateway, DNS through it, reach the
# outside through the NAT, a port forward back in) and names the step that
# fails after the faults
# configuration inspection cannot see: the ruleset flushed by another tool,
# a killed dnsmasq, an uplink down. After every run no probe link is left
# in the host namespace, no namespace was named and no process of the probe
# remains (its namespace has no name: it goes with its process), and
# dnsmasq keeps no lease.
#
#   [probe] eth0 --veth vmnprobeN-- vm-nat (10.99.1.1, dnsmasq) [host] wan0 203.0.113.1 -- eth0 [up] 203.0.113.2
. "$top_srcdir/tests/netns/lib.sh"
. "$top_srcdir/tests/lib/standin.sh"

host_and_outside
cat >"$T/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-probe">
  <network name="nat" mode="nat" bridge="vm-nat">
    <subnet cidr="10.99.1.0/24" gateway="10.99.1.1">
      <dhcp start="10.99.1.100" end="10.99.1.150"/>
    </subnet>
    <nat out="wan0">
      <port-forward proto="tcp" host-port="8080" to="10.99.1.10" to-port="80"/>
    </nat>
  </network>
</plan>
XML
# track_dnsmasq: the dnsmasq instances vmnet started, stopped at exit even
# when the test ends early (a process keeps its namespace alive)
track_dnsmasq() {
        local f
        for f in $(find "$VMNET_RUN_DIR" -name '*.pid' 2>/dev/null); do track_pid "$(cat "$f")"; done
}
apply_or_stop "a NAT network with DHCP"
track_dnsmasq
leases=$VMNET_STATE_DIR/netns-$P-host/dnsmasq/t-probe/nat.leases
pidfile=$VMNET_RUN_DIR/netns-$P-host/dnsmasq/t-probe/nat.pid

# probe WHAT: runs the probe (JSON in $T/probe.json) and checks it left no trace
probe() {
        local before after
        before=$(ip netns list | grep -c "^$P-")
        "$VMNET" --netns "$P-host" --json doctor --probe nat --probe-target 203.0.113.2 "$T/plan.xml" \
                >"$T/probe.json" 2>"$T/probe.err"
        rc=$?
        after=$(ip netns list | grep -c "^$P-")
        check "$1: no probe link left on the host" \
                jtrue '[.[] | select(.ifname | startswith("vmnprobe"))] == []' ip -n "$P-host" -j link show
        # the probe's namespace has no name: it lives as long as a process of the probe
        check "$1: no namespace named, no process of the probe left ($before -> $after namespaces)" \
                sh -c "test '$before' = '$after' && ! pgrep -f '^$VMNET .*--probe' >/dev/null"
        # the release reaches dnsmasq after the probe has gone: a bounded wait
        for _ in $(seq 30); do [ -s "$leases" ] || break; sleep 0.1; done
        check "$1: dnsmasq keeps no lease of the probe ($(cat "$leases" 2>/dev/null | wc -l) lines)" \
                test ! -s "$leases"
}
steps() { jread '[.probe.steps[] | "\(.name):\(.status)"] | join(" ")' cat "$T/probe.json" | tr -d '"'; }

probe "healthy"
check "healthy: exit 0 ($rc), every step ok ($(steps))" \
        test "$rc $(steps)" = "0 dhcp:ok gateway:ok dns:ok outside:ok forward:ok"
check "healthy: the lease came from the range, the gateway answered 4 of 4" \
        jtrue '(.probe.steps[0].detail | test("^lease of 10\\.99\\.1\\.1[0-5][0-9] from 10\\.99\\.1\\.1")) and .probe.steps[1].received == 4 and .probe.steps[1].loss_percent == 0' cat "$T/probe.json"
"$VMNET" --netns "$P-host" doctor --probe nat --probe-target 203.0.113.2 "$T/plan.xml" >"$T/text" 2>&1
check "healthy: the text names each step with loss and latency" \
        grep -q "^  gateway  ok       4/4 answered, loss 0%, rtt avg .* ms" "$T/text"

# the ruleset wiped by another tool: the masquerade is gone, the outside
# sees 10.99.1.x and has no way back
x host nft flush ruleset
probe "after nft flush ruleset"
check "after nft flush ruleset: exit 1 ($rc), the failing step is outside, the forward fails too ($(steps))" \
        test "$rc $(jread .probe.failed_step cat "$T/probe.json") $(steps)" = '1 "outside" dhcp:ok gateway:ok dns:ok outside:failed forward:failed'
apply_or_stop "again (puts the table back)"

# a killed dnsmasq
kill "$(cat "$pidfile")"
for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
probe "after killing dnsmasq"
check "after killing dnsmasq: exit 1 ($rc), the failing step is dhcp, the others not run ($(steps))" \
        test "$rc $(steps)" = "1 dhcp:failed gateway:skipped dns:skipped outside:skipped forward:skipped"
apply_or_stop "again (restarts dnsmasq)"
track_dnsmasq

# the uplink down
ip -n "$P-host" link set wan0 down
probe "with the uplink down"
check "with the uplink down: exit 1 ($rc), the failing step is outside ($(steps))" \
        test "$rc $(steps)" = "1 dhcp:ok gateway:ok dns:ok outside:failed forward:ok"
ip -n "$P-host" link set wan0 up

# the forward's guest is there: the probe leaves its address alone
guest g1 vm-nat 10.99.1.10/24 10.99.1.1 fd99:1::10/64 fd99:1::1
x host busybox ping -c 1 -W 2 10.99.1.10 >/dev/null
probe "with the forward's guest running"
check "with the forward's guest running: exit 0 ($rc), the forward not probed, saying why" \
        jtrue '.probe.passed and ([.probe.steps[] | select(.name == "forward") | [.status, (.detail | test("^10\\.99\\.1\\.10, the forward.s guest address, is in use"))]] == [["skipped", true]])' \
        cat "$T/probe.json"
check "destroy" vm "$P-host" destroy "$T/plan.xml"
finish
