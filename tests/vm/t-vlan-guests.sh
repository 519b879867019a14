#!/bin/bash
# t-vlan-guests: guest ports of VLAN-aware bridges are placed by vmnet
# itself, whoever plugs them (vmnet-plan(5) VLANS, vmnet(8) HOOK), against a
# real libvirtd with vmnet's network hook installed as `make install` does:
#
#   [e100] sw0.100 --.                          .-- vnet (g1, attached by vmnet apply)   VLAN 100
#   [e200] sw0.200 ---[sw] sw0 ==trunk== up0 -- trunkbr -- vnet (g2, virsh start)   VLAN 200
#   [e300] sw0.300 --'       (veth)      (VLAN-aware)  |-- vnet (g2, hot-plugged, port group) VLAN 300
#   [e400] sw0.400 -'                                   |-- vnet (g3, started after a libvirtd restart)
#                                                       |-- vnet (g1, attached by apply)  trunk: 100, 300 tagged,
#                                                       |-- vnet (g4, virsh start)        200 untagged (port group rt)
#                                                       '-- rt0 (stand-in router, placed by the hook): the same trunk
#
# Each guest port must be in its VLAN, untagged and PVID, and in no other
# (not the trunk's native VLAN 1); a port of the trunk port group rt in
# exactly 100 and 300 tagged and 200 untagged + PVID: read back with
# `bridge -j vlan show`, and proven with tagged broadcasts sent on the
# trunk, counted where they arrive (the taps' transmit counters: what the
# bridge handed to each guest). The stand-in router, a namespace with 802.1Q
# subinterfaces, talks to the far side in VLANs 100 and 300 (tagged) and 200
# (untagged), and nothing it sends in VLAN 400 (on the uplink, not in its
# trunk) arrives there (e400's receive counter).
# A port moved by hand is reported by plan and doctor and put back by apply.
. "${0%/*}/lib.sh"
. "$top_srcdir/tests/lib/jcheck.sh"
modprobe 8021q 2>/dev/null

W=$(mktemp -d /tmp/t-vlan-guests.XXXXXX)
vm_on_exit rm -rf "$W"
export VMNET_STATE_DIR=$W/state VMNET_RUN_DIR=$W/run

# --- the hook, as make install puts it, running the binary under test -----------
hook=$top_builddir/hooks/50-vmnet
t_hook_installed() {
        vm_assert test -x "$hook"
        vm_assert grep -qx 'exec .*/vmnet hook network "$@"' "$hook"
        mkdir -p /etc/libvirt/hooks/network.d
        sed "s|^exec .*/vmnet |exec $VMNET |" "$hook" >/etc/libvirt/hooks/network.d/50-vmnet
        chmod 755 /etc/libvirt/hooks/network.d/50-vmnet
        vm_assert grep -q "exec $VMNET hook network" /etc/libvirt/hooks/network.d/50-vmnet
}
vm_test "the built hook script runs 'vmnet hook network', installed in libvirt's network.d" t_hook_installed

# --- trunk and switch -------------------------------------------------------------
sw=$(vm_netns_add sw)
ip link add up0 type veth peer name sw0 netns "$sw"
ip link set up0 up
ip -n "$sw" link set sw0 up
declare -A ep
for v in 100 200 300 400; do
        ep[$v]=$(vm_netns_add e$v)
        ip -n "$sw" link add link sw0 name sw0.$v type vlan id $v
        ip -n "$sw" link set sw0.$v netns "${ep[$v]}"
        vm_ns "${ep[$v]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "${ep[$v]}" addr add 10.60.$((v / 100)).2/24 dev sw0.$v
        ip -n "${ep[$v]}" link set sw0.$v up
done
vm_ns "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$sw" addr add 10.60.0.2/24 dev sw0 # the trunk's native (untagged) VLAN

vm_libvirt_start

cat >"$W/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-vg">
  <network name="v100" mode="bridged" bridge="trunkbr" vlan-aware="yes" stp="no">
    <uplink dev="up0" vlan="100"/>
    <portgroup name="p400" vlan="400"/>
  </network>
  <network name="v200" mode="bridged" bridge="trunkbr" vlan-aware="yes" stp="no">
    <uplink dev="up0" vlan="200"/>
    <portgroup name="p300" vlan="300"/>
    <portgroup name="rt" trunk="100,300" native="200"/>
  </network>
  <domain name="g1">
    <interface network="v100" mac="52:54:00:60:01:01"/>
    <interface network="v200" portgroup="rt" mac="52:54:00:60:01:02"/>
  </domain>
</plan>
XML

nic() { # NETWORK MAC [PORTGROUP]: a guest interface on a network
        echo "<interface type='network'><source network='$1'${3:+ portgroup='$3'}/><mac address='$2'/><model type='virtio'/></interface>"
}
tap_of() { # DOMAIN MAC: the tap libvirt made for it
        vm_virsh domiflist "$1" | awk -v mac="$2" '$5 == mac { print $1 }'
}
# in_only_vlan TAP VID: the port is in VLAN VID, untagged and PVID, and in no other.
in_only_vlan() {
        [[ -n $1 ]] || return 1
        jtrue --argjson v "$2" 'length == 1 and (.[0].vlans | length) == 1 and .[0].vlans[0].vlan == $v and (.[0].vlans[0].flags | sort) == ["Egress Untagged", "PVID"]' \
                bridge -j vlan show dev "$1"
}
assert_in_only_vlan() { # DOMAIN MAC VID
        local tap
        tap=$(tap_of "$1" "$2")
        [[ -n $tap ]] || vm_fail "domain $1 has no tap for $2"
        # The hook places a port just after libvirt plugged it: wait for that, bounded.
        vm_wait_until 60 in_only_vlan "$tap" "$3" || true
        in_only_vlan "$tap" "$3" || vm_fail "$tap of $1 ($2) is not in vlan $3 alone: $(bridge -c vlan show dev "$tap" | tr '\n' ' ')"
}

# in_trunk TAP: the port carries exactly the trunk of port group rt.
in_trunk() {
        [[ -n $1 ]] || return 1
        jtrue 'length == 1 and ([.[0].vlans[] | {vlan, flags: ((.flags // []) | sort)}] | sort_by(.vlan)) == [{vlan: 100, flags: []}, {vlan: 200, flags: ["Egress Untagged", "PVID"]}, {vlan: 300, flags: []}]' \
                bridge -j vlan show dev "$1"
}
assert_trunk() { # DOMAIN MAC
        local tap
        tap=$(tap_of "$1" "$2")
        [[ -n $tap ]] || vm_fail "domain $1 has no tap for $2"
        vm_wait_until 60 in_trunk "$tap" || true
        in_trunk "$tap" || vm_fail "$tap of $1 ($2) does not carry exactly 100, 300 tagged and 200 untagged: $(bridge -c vlan show dev "$tap" | tr '\n' ' ')"
}

vm_domain_start g1

t_apply() {
        vm_assert "$VMNET" apply --connect "$VM_LIBVIRT_URI" "$W/plan.xml"
        jtrue '.[0].linkinfo.info_data.vlan_filtering == 1' ip -d -j link show trunkbr
}
vm_test "apply: one VLAN-aware bridge, g1's interface attached by vmnet" t_apply

t_g1() { assert_in_only_vlan g1 52:54:00:60:01:01 100; }
vm_test "g1 (attached by vmnet): its port is in VLAN 100 only, untagged + PVID" t_g1

t_g1_trunk() { assert_trunk g1 52:54:00:60:01:02; }
vm_test "g1's interface in trunk port group rt (attached by vmnet): 100, 300 tagged, 200 untagged + PVID, nothing else" t_g1_trunk

t_uplink() {
        jtrue '[.[0].vlans[] | .vlan] | sort == [1, 100, 200, 300, 400]' bridge -j vlan show dev up0
}
vm_test "the uplink carries the networks', port groups' and the trunk's VLANs" t_uplink

t_g2_start() {
        vm_domain_start g2 "$(nic v200 52:54:00:60:02:01)"
        assert_in_only_vlan g2 52:54:00:60:02:01 200
}
vm_test "g2 started by virsh after the apply: its port is in VLAN 200 only (network hook)" t_g2_start

t_g4_trunk() {
        vm_domain_start g4 "$(nic v200 52:54:00:60:04:01 rt)"
        assert_trunk g4 52:54:00:60:04:01
}
vm_test "g4 started by virsh in trunk port group rt: the hook gives its port exactly the trunk" t_g4_trunk

# The stand-in router: a namespace whose eth0 is a veth plugged into trunkbr,
# its port placed by vmnet's network hook as libvirt runs it (the network's
# running definition from libvirt, a port in group rt); 802.1Q subinterfaces
# on eth0 for 100, 300 and 400, untagged eth0 in 200.
rt=$(vm_netns_add rt)
t_standin() {
        local addr
        {
                echo "<hookData>"
                vm_virsh net-dumpxml v200
                cat <<XML
<networkport>
  <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>
  <owner><name>rt</name><uuid>$(cat /proc/sys/kernel/random/uuid)</uuid></owner>
  <group>rt</group>
  <mac address='52:54:00:60:09:01'/>
  <plug type='bridge' bridge='trunkbr' macTableManager='kernel'/>
</networkport>
</hookData>
XML
        } >"$W/hook-rt.xml"
        vm_assert "$VMNET" hook network v200 port-created begin - <"$W/hook-rt.xml"
        ip link add rt0 address fe:54:00:60:09:01 type veth peer name eth0 address 52:54:00:60:09:01 netns "$rt"
        vm_on_exit ip link del rt0
        ip link set rt0 master trunkbr up
        vm_ns "$rt" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$rt" link set eth0 up
        ip -n "$rt" addr add 10.60.2.50/24 dev eth0
        for v in 100 300 400; do
                ip -n "$rt" link add link eth0 name eth0.$v type vlan id $v
                ip -n "$rt" addr add 10.60.$((v / 100)).50/24 dev eth0.$v
                ip -n "$rt" link set eth0.$v up
        done
        # Last, so that the traffic check below stands on its own when the port is wrong.
        vm_wait_until 60 in_trunk rt0 || true
        in_trunk rt0 || vm_fail "rt0 does not carry the trunk: $(bridge -c vlan show dev rt0 | tr '\n' ' ')"
}
vm_test "a stand-in router on port group rt: the hook places its port (100, 300 tagged, 200 untagged)" t_standin

# rx_packets NS DEV: what DEV has received.
rx_packets() { jread '.[0].stats64.rx.packets' ip -n "$1" -s -j link show "$2"; }
t_standin_traffic() {
        local v before after out
        for v in 100 200 300; do
                vm_assert vm_ns "$rt" busybox ping -c 2 -w 10 -q 10.60.$((v / 100)).2
        done
        # VLAN 400 is on the uplink, not in the trunk: the router's frames stop at its port.
        before=$(rx_packets "${ep[400]}" sw0.400)
        out=$(vm_ns "$rt" busybox arping -c 3 -w 6 -I eth0.400 10.60.4.2 2>&1) || true
        [[ $out == *"Sent 3 probe"* ]] || vm_fail "arping on eth0.400: $out"
        after=$(rx_packets "${ep[400]}" sw0.400)
        vm_assert_eq "$before" "$after" "frames received by e400 from the router's VLAN 400"
        # The far side of VLAN 400 is there: e400's own broadcasts reach the uplink, and the router's port drops them.
        before=$(rx_packets "$rt" eth0.400)
        out=$(vm_ns "${ep[400]}" busybox arping -c 3 -w 6 -I sw0.400 10.60.4.50 2>&1) || true
        [[ $out == *"Sent 3 probe"* ]] || vm_fail "arping on sw0.400: $out"
        after=$(rx_packets "$rt" eth0.400)
        vm_assert_eq "$before" "$after" "frames of VLAN 400 received by the router"
        ip link del rt0 # not a libvirt guest: out of the way of the applies below
}
vm_test "the stand-in router talks in VLANs 100, 300 (tagged) and 200 (untagged); nothing crosses in VLAN 400 either way" t_standin_traffic

t_hotplug() {
        nic v200 52:54:00:60:02:03 p300 >"$W/hot.xml"
        vm_assert vm_virsh attach-device g2 "$W/hot.xml" --live
        assert_in_only_vlan g2 52:54:00:60:02:03 300
        nic v200 52:54:00:60:02:04 rt >"$W/hot-rt.xml"
        vm_assert vm_virsh attach-device g2 "$W/hot-rt.xml" --live
        assert_trunk g2 52:54:00:60:02:04
}
vm_test "interfaces hot-plugged into g2 in port groups p300 and rt: VLAN 300 only, and the trunk" t_hotplug

# restart_libvirtd: stop libvirtd (guests keep running), start it again and wait for it.
restart_libvirtd() {
        local pid
        pid=$(</run/libvirtd.pid)
        kill "$pid"
        vm_wait_until 60 eval "! kill -0 $pid" || vm_fail "libvirtd ($pid) did not stop"
        LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d
        vm_wait_until 90 vm_virsh version || vm_fail "libvirtd did not come back"
}
t_restart() {
        restart_libvirtd
        vm_domain_start g3 "$(nic v100 52:54:00:60:03:01)$(nic v200 52:54:00:60:03:02 rt)"
        assert_in_only_vlan g3 52:54:00:60:03:01 100
        assert_trunk g3 52:54:00:60:03:02
        assert_in_only_vlan g1 52:54:00:60:01:01 100
        assert_in_only_vlan g2 52:54:00:60:02:01 200
        assert_trunk g4 52:54:00:60:04:01
}
vm_test "after a libvirtd restart: g3 started in VLAN 100 and on the trunk, the others untouched" t_restart

# Tagged broadcasts from each VLAN's end of the trunk, counted where the bridge
# hands them to each guest port: a bridge-family forward counter per tap
# (the bridge checks a port's VLANs before that hook, br_forward.c
# should_deliver()). The guests are disk-less, with no OS to count for us.
t_traffic() {
        local -A tap before after
        tap[g1]=$(tap_of g1 52:54:00:60:01:01) tap[g2]=$(tap_of g2 52:54:00:60:02:01)
        tap[g2b]=$(tap_of g2 52:54:00:60:02:03) tap[g3]=$(tap_of g3 52:54:00:60:03:01)
        # the trunk ports of port group rt
        tap[g1t]=$(tap_of g1 52:54:00:60:01:02) tap[g2t]=$(tap_of g2 52:54:00:60:02:04)
        tap[g3t]=$(tap_of g3 52:54:00:60:03:02) tap[g4]=$(tap_of g4 52:54:00:60:04:01)
        local trunk="g1t g2t g3t g4"
        local -A want=([100]="g1 g3 $trunk" [200]="g2 $trunk" [300]="g2b $trunk" [400]="" [1]="")
        local v g ns dev out
        nft add table bridge vgcount
        nft add chain bridge vgcount toguest '{ type filter hook forward priority 0; }'
        for g in "${!tap[@]}"; do
                [[ -n ${tap[$g]} ]] || vm_fail "no tap for $g"
                nft add counter bridge vgcount "$g"
                nft add rule bridge vgcount toguest oifname "${tap[$g]}" counter name "$g"
        done
        # counts NAME: NAME=packets for every counter, one reading for all taps.
        counts() {
                local -n into=$1
                local line all
                all=$(jread '.nftables[] | select(.counter) | "\(.counter.name)=\(.counter.packets)"' \
                        nft -j list counters table bridge vgcount)
                while read -r line; do
                        line=${line//\"/}
                        into[${line%%=*}]=${line#*=}
                done <<<"$all"
        }
        for v in 100 200 300 400 1; do
                counts before
                if ((v == 1)); then ns=$sw dev=sw0; else ns=${ep[$v]} dev=sw0.$v; fi
                # Nobody answers 10.60.99.99: arping exits 1, having sent its 3 broadcasts.
                out=$(vm_ns "$ns" busybox arping -c 3 -w 6 -I "$dev" 10.60.99.99 2>&1) || true
                [[ $out == *"Sent 3 probe"* ]] || vm_fail "arping on $dev: $out"
                counts after
                for g in "${!tap[@]}"; do
                        if [[ " ${want[$v]} " == *" $g "* ]]; then
                                ((after[$g] >= before[$g] + 3)) ||
                                        vm_fail "VLAN $v: ${tap[$g]} ($g) got $((after[$g] - before[$g])) of 3 broadcasts"
                        else
                                ((after[$g] == before[$g])) ||
                                        vm_fail "VLAN $v: ${tap[$g]} ($g) got $((after[$g] - before[$g])) frames of a VLAN it is not in"
                        fi
                done
        done
        nft delete table bridge vgcount
}
vm_test "broadcasts tagged 100/200/300 reach only their VLAN's guests and the trunk ports; 400 and untagged (native VLAN 1) reach none" t_traffic

t_noop() {
        vm_assert "$VMNET" apply --detailed-exitcode --connect "$VM_LIBVIRT_URI" "$W/plan.xml"
}
vm_test "re-apply changes nothing" t_noop

# drift_planned TAP NAME JQ: plan --json exits 2 (drift) and its actions on TAP's port, as
# [type, impact, description] sorted, pass JQ ($t: the tap); doctor's guest-vlans check
# reports the port as an error. The outputs go to $W/NAME-plan.json, $W/NAME-doctor.json.
drift_planned() {
        local rc=0
        "$VMNET" --json plan --detailed-exitcode --connect "$VM_LIBVIRT_URI" "$W/plan.xml" >"$W/$2-plan.json" || rc=$?
        vm_assert_eq 2 "$rc" "plan's exit status with $1 moved"
        jtrue --arg t "$1" "[.actions[] | select(.object == \"link \\(\$t)\") | [.type, .impact, .description]] | sort | $3" cat "$W/$2-plan.json"
        "$VMNET" --json doctor --connect "$VM_LIBVIRT_URI" "$W/plan.xml" >"$W/$2-doctor.json" || true
        jtrue --arg t "$1" '[.findings[] | select(.check == "guest-vlans" and .object == "link \($t)" and .severity == "error")] | length == 1' cat "$W/$2-doctor.json"
}

t_drift() {
        local tap
        tap=$(tap_of g2 52:54:00:60:02:01)
        bridge vlan add dev "$tap" vid 1 pvid untagged
        bridge vlan add dev "$tap" vid 100
        drift_planned "$tap" access 'map(.[0]) == ["bridge-vlan-add", "bridge-vlan-del", "bridge-vlan-del"]'
        "$VMNET" --json status --connect "$VM_LIBVIRT_URI" "$W/plan.xml" >"$W/status.json" || true
        jtrue --arg t "$tap" '.in_sync == false and ([.drift[] | select(test("port \($t) of trunkbr"))] | length) == 3' cat "$W/status.json"
        vm_assert "$VMNET" apply --connect "$VM_LIBVIRT_URI" "$W/plan.xml"
        in_only_vlan "$tap" 200 || vm_fail "apply did not put $tap back in VLAN 200 alone"
        "$VMNET" --json doctor --connect "$VM_LIBVIRT_URI" "$W/plan.xml" >"$W/doctor2.json" || true
        jtrue '[.findings[] | select(.check == "guest-vlans")] | length == 0' cat "$W/doctor2.json"
}
vm_test "a port moved to VLANs 1 and 100 by hand: plan, status and doctor report it, apply puts it back" t_drift

t_trunk_drift() {
        local tap
        tap=$(tap_of g4 52:54:00:60:04:01)
        bridge vlan del dev "$tap" vid 300
        bridge vlan add dev "$tap" vid 400
        drift_planned "$tap" trunk '. == [["bridge-vlan-add", "safe", "add vlan 300 (tagged) to port \($t) of trunkbr"], ["bridge-vlan-del", "disruptive", "remove vlan 400 (tagged) from port \($t) of trunkbr [disruptive]"]]'
        vm_assert "$VMNET" apply --connect "$VM_LIBVIRT_URI" "$W/plan.xml"
        in_trunk "$tap" || vm_fail "apply did not put the trunk of $tap right"
        vm_assert "$VMNET" apply --detailed-exitcode --connect "$VM_LIBVIRT_URI" "$W/plan.xml"
}
vm_test "a trunk port with VLAN 300 removed and 400 added by hand: plan shows each repair, doctor reports it, apply repairs, re-apply is a no-op" t_trunk_drift

t_destroy() {
        vm_domain_remove g2
        vm_domain_remove g3
        vm_domain_remove g4
        vm_assert "$VMNET" destroy --connect "$VM_LIBVIRT_URI" "$W/plan.xml"
        vm_assert_not ip link show trunkbr
}
vm_test "destroy" t_destroy
vm_summary
