#!/bin/bash
# t-mirror: port mirrors installed by vmnet's network hook for a guest that
# libvirt starts after the apply, whoever starts it (vmnet-plan(5) PORT
# MIRRORING, vmnet(8) HOOK), against a real libvirtd:
#
#   vr-lan (isolated): port group "watched" mirrors egress to mon
#     g2 (virsh start, port group watched)   mirrored by the hook
#     g3 (virsh start, default port group)   not mirrored
#     vpeer: a stand-in on the bridge that sends frames to g2 and g3
#   vr-span (isolated): mon's interface (attached by vmnet apply)
#
# The guests are disk-less and send nothing, so the frames are what they
# receive (the egress of their taps), sent by the stand-in; the bridge
# knows their MACs from static FDB entries (no OS to teach it). Proven at
# the destination: a raw-frame listener on mon's tap logs the copies the
# mirror sends out of it, and must log g2's frames, each once, and none of
# g3's. The filters are read with tc.
. "${0%/*}/lib.sh"
. "$top_srcdir/tests/lib/jcheck.sh"

VMNET=${VMNET:-$top_builddir/vmnet}
URI=$VM_LIBVIRT_URI
PY=/usr/bin/python3 PROBE=$top_srcdir/tests/lib/probe.py
W=$(mktemp -d /tmp/t-mirror.XXXXXX)
vm_on_exit rm -rf "$W"
# Not VMNET_STATE_DIR: the hook, run by libvirtd, finds the saved plan where
# an installed vmnet keeps it (/var/lib/vmnet, a tmpfs in the VM).

hook=$top_builddir/hooks/50-vmnet
t_hook_installed() {
        vm_assert test -x "$hook"
        mkdir -p /etc/libvirt/hooks/network.d
        sed "s|^exec .*/vmnet |exec $VMNET |" "$hook" >/etc/libvirt/hooks/network.d/50-vmnet
        chmod 755 /etc/libvirt/hooks/network.d/50-vmnet
        vm_assert grep -q "exec $VMNET hook network" /etc/libvirt/hooks/network.d/50-vmnet
}
vm_test "the hook installed in libvirt's network.d, running the binary under test" t_hook_installed

vm_libvirt_start
MON=vmn525400790003
cat >"$W/plan.xml" <<'XML'
<plan xmlns="urn:vmnet:plan:1" name="t-mirror">
  <network name="lan" mode="isolated" bridge="vr-lan">
    <portgroup name="watched">
      <mirror direction="egress" domain="mon"/>
    </portgroup>
  </network>
  <network name="span" mode="isolated" bridge="vr-span"/>
  <domain name="mon"><interface network="span" mac="52:54:00:79:00:03"/></domain>
</plan>
XML
nic() { # NETWORK MAC [PORTGROUP]
        echo "<interface type='network'><source network='$1'${3:+ portgroup='$3'}/><mac address='$2'/><model type='virtio'/></interface>"
}
tap_of() { vm_virsh domiflist "$1" | awk -v mac="$2" '$5 == mac { print $1 }'; }

vm_domain_start mon
t_apply() {
        vm_assert "$VMNET" apply --connect "$URI" "$W/plan.xml"
        vm_assert ip link show "$MON"
}
vm_test "apply: networks, mon's interface attached by vmnet (tap $MON)" t_apply

FILTER='[.[] | select(.kind == "u32" and .pref == 30318 and .options.actions != null)]'
mirrored_to_mon() { # TAP: its egress mirror to mon's tap is in the kernel
        [[ -n $1 ]] && jtrue "$FILTER | length == 1 and (.[0].options.actions[0] | .kind == \"mirred\"
                and .mirred_action == \"mirror\" and .to_dev == \"$MON\")" tc -j filter show dev "$1" egress
}
t_hook() {
        vm_domain_start g2 "$(nic lan 52:54:00:79:00:02 watched)"
        vm_domain_start g3 "$(nic lan 52:54:00:79:00:04)"
        G2=$(tap_of g2 52:54:00:79:00:02) G3=$(tap_of g3 52:54:00:79:00:04)
        [[ -n $G2 && -n $G3 ]] || vm_fail "no taps for g2/g3 ($G2/$G3)"
        # The hook's child installs it once libvirt has plugged the tap: wait, bounded.
        vm_wait_until 60 mirrored_to_mon "$G2" || true
        mirrored_to_mon "$G2" || vm_fail "g2's tap $G2 has no egress mirror to $MON: $(tc -j filter show dev "$G2" egress)"
        [[ $(tc -j qdisc show dev "$G3" ingress) == "[]" ]] || vm_fail "g3's tap $G3 has a qdisc in the ingress slot"
        echo "$G2 $G3" >"$W/taps"
}
vm_test "g2 started by virsh on port group watched: the network hook mirrors its egress to mon; g3 untouched" t_hook

t_frames() {
        local G2 G3 n
        read -r G2 G3 <"$W/taps"
        peer=$(vm_netns_add peer)
        ip link add vpeer type veth peer name eth0 netns "$peer"
        ip link set vpeer master vr-lan up
        ip -n "$peer" link set eth0 address 52:54:00:79:00:09 up
        bridge fdb replace 52:54:00:79:00:02 dev "$G2" master static
        bridge fdb replace 52:54:00:79:00:04 dev "$G3" master static
        timeout 600 "$PY" "$PROBE" fserve "$W/flog" "$W/fready" "$MON" >/dev/null 2>"$W/fserve.err" &
        vm_on_exit kill $!
        vm_wait_until 20 test -s "$W/fready" || vm_fail "listener on $MON: $(cat "$W/fserve.err")"
        for i in 1 2 3 4 5; do
                vm_ns "$peer" "$PY" "$PROBE" frame eth0 52:54:00:79:00:09 52:54:00:79:00:04 "g3f$i" >/dev/null
                vm_ns "$peer" "$PY" "$PROBE" frame eth0 52:54:00:79:00:09 52:54:00:79:00:02 "g2f$i" >/dev/null
        done
        vm_wait_until 20 grep -q '^g2f5 ' "$W/flog" || true
        n=$(grep -c '^g2f[0-9] ' "$W/flog" || true)
        vm_assert_eq 5 "$n" "copies of g2's frames at mon's tap"
        n=$(grep -c '^g3f[0-9] ' "$W/flog" || true)
        vm_assert_eq 0 "$n" "copies of g3's frames at mon's tap"
}
vm_test "frames to g2 reach mon's port, once each; frames to g3 never do" t_frames

t_noop() {
        vm_assert "$VMNET" apply --detailed-exitcode --connect "$URI" "$W/plan.xml"
        "$VMNET" --json status --connect "$URI" "$W/plan.xml" >"$W/status.json" || true
        read -r G2 G3 <"$W/taps"
        jtrue --arg t "$G2" --arg m "$MON" '.in_sync and ([.mirrors[] | select(.port == $t and .to == $m
                and .direction == "egress" and .port_owner == "domain g2, port group watched")] | length == 1)' \
                cat "$W/status.json"
}
vm_test "re-apply is a no-op; status names g2's mirror" t_noop

t_destroy() {
        read -r G2 G3 <"$W/taps"
        vm_assert "$VMNET" destroy --force --connect "$URI" "$W/plan.xml"
        if ip link show "$G2" >/dev/null 2>&1; then
                [[ "$(tc -j qdisc show dev "$G2" ingress)$(tc -j filter show dev "$G2" egress)" == "[][]" ]] ||
                        vm_fail "g2's tap keeps a qdisc or filter: $(tc -j filter show dev "$G2" egress)"
        fi
}
vm_test "destroy leaves no qdisc or filter on g2's port" t_destroy
vm_summary
